/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "iostream-ssl.h"
#include "smtp-submit-settings.h"
#include "mail-user.h"
#include "mail-storage-settings.h"
#include "mailbox-list-private.h"
#include "readreceipt-compat.h"

#include "auth-master.h"
#include "mail-storage-service.h"
#if DOVECOT_PREREQ(2, 4, 0)
#  include "settings.h"
#  include "mailbox-attribute.h"
#  include "readreceipt-settings-info.h"
#else
#  include "settings-parser.h"
#endif

#if DOVECOT_PREREQ(2, 4, 0)

struct readreceipt_compat_settings {
	/* NULL when settings_get() failed */
	const struct readreceipt_raw_settings *raw;
};

int readreceipt_compat_settings_get(struct mail_user *user, bool unexpanded,
				    struct readreceipt_compat_settings **set_r,
				    const char **error_r)
{
	struct readreceipt_compat_settings *set;

	set = p_new(user->pool, struct readreceipt_compat_settings, 1);
	*set_r = set;
	/* the configuration with the userdb fields of the same names
	   applied, and %variables expanded for the user */
	if (settings_get(user->event, &readreceipt_setting_parser_info,
			 unexpanded ? SETTINGS_GET_FLAG_NO_EXPAND : 0,
			 &set->raw, error_r) < 0) {
		set->raw = NULL;
		return -1;
	}
	return 0;
}

void readreceipt_compat_settings_free(struct readreceipt_compat_settings **_set)
{
	struct readreceipt_compat_settings *set = *_set;

	*_set = NULL;
	if (set != NULL)
		settings_free(set->raw);
}

const char *
readreceipt_compat_setting(const struct readreceipt_compat_settings *set,
			   const char *name)
{
	if (set->raw == NULL)
		return NULL;
	return readreceipt_raw_setting(set->raw, name);
}

const char *
readreceipt_compat_setting_configured(
	const struct readreceipt_compat_settings *set, const char *name)
{
	if (set->raw == NULL ||
	    readreceipt_raw_setting_is_default(set->raw, name))
		return NULL;
	return readreceipt_raw_setting(set->raw, name);
}

const struct smtp_submit_settings *
readreceipt_compat_smtp_submit_settings(struct mail_user *user, pool_t pool)
{
	const struct smtp_submit_settings *set;
	struct smtp_submit_settings *copy;
	const char *error;

	if (settings_get(user->event, &smtp_submit_setting_parser_info, 0,
			 &set, &error) < 0) {
		e_error(user->event, "readreceipt: Failed to read the "
			"submission settings: %s", error);
		return NULL;
	}
	/* kept for the user's lifetime, in the caller's pool */
	copy = p_new(pool, struct smtp_submit_settings, 1);
	*copy = *set;
	copy->pool = NULL;
	copy->hostname = p_strdup(pool, set->hostname);
	copy->submission_host = p_strdup(pool, set->submission_host);
	copy->sendmail_path = p_strdup(pool, set->sendmail_path);
	copy->submission_ssl = p_strdup(pool, set->submission_ssl);
	settings_free(set);
	return copy;
}

int readreceipt_compat_mail_storage_settings_get(
	struct mail_user *user, const struct mail_storage_settings **set_r,
	const char **error_r)
{
	return settings_get(user->event, &mail_storage_setting_parser_info, 0,
			    set_r, error_r);
}

void readreceipt_compat_mail_storage_settings_free(
	const struct mail_storage_settings **set)
{
	settings_free(*set);
}

const char *readreceipt_compat_list_volatile_dir(struct mailbox_list *list)
{
	const char *dir = list->mail_set->mail_volatile_path;

	return dir == NULL || dir[0] == '\0' ? NULL : dir;
}

bool readreceipt_compat_attribute_dict_enabled(struct mail_user *user)
{
	const char *error;
	int ret;

	ret = mailbox_attribute_dict_is_enabled(user, &error);
	if (ret < 0) {
		e_error(user->event, "readreceipt: Failed to read the "
			"mail_attribute settings: %s", error);
	}
	return ret > 0;
}

bool readreceipt_compat_user_debug(struct mail_user *user)
{
	return event_want_debug(user->event);
}

const struct ssl_iostream_settings *
readreceipt_compat_ssl_client_settings(
	struct mail_user *user ATTR_UNUSED,
	struct ssl_iostream_settings *ssl_set ATTR_UNUSED)
{
	/* lib-smtp reads ssl_client_* through the client's event */
	return NULL;
}

#else

struct readreceipt_compat_settings {
	struct mail_user *user;
};

int readreceipt_compat_settings_get(struct mail_user *user,
				    bool unexpanded ATTR_UNUSED,
				    struct readreceipt_compat_settings **set_r,
				    const char **error_r ATTR_UNUSED)
{
	struct readreceipt_compat_settings *set;

	/* plugin {} with the userdb fields applied is the user's own
	   environment: it is read when a value is needed */
	set = p_new(user->pool, struct readreceipt_compat_settings, 1);
	set->user = user;
	*set_r = set;
	return 0;
}

void readreceipt_compat_settings_free(struct readreceipt_compat_settings **set)
{
	*set = NULL;
}

const char *
readreceipt_compat_setting(const struct readreceipt_compat_settings *set,
			   const char *name)
{
	/* plugin {} overridden by the userdb extra field of the same name */
	return mail_user_plugin_getenv(set->user, name);
}

const char *
readreceipt_compat_setting_configured(
	const struct readreceipt_compat_settings *set, const char *name)
{
	return readreceipt_compat_setting(set, name);
}

const struct smtp_submit_settings *
readreceipt_compat_smtp_submit_settings(struct mail_user *user, pool_t pool)
{
	const struct setting_parser_info *const *roots;
	struct setting_parser_context *parser;
	struct smtp_submit_settings *set;
	void **sets;
	const char *error;
	unsigned int i;

	if (user->_service_user == NULL)
		return NULL;
	parser = mail_storage_service_user_get_settings_parser(
		user->_service_user);
	if (parser == NULL)
		return NULL;
	roots = settings_parser_get_roots(parser);
	sets = settings_parser_get_list(parser);
	for (i = 0; roots[i] != NULL; i++) {
		if (roots[i] == &smtp_submit_setting_parser_info)
			break;
	}
	if (roots[i] == NULL) {
		/* pop3, doveadm: the service reads no submission settings */
		return NULL;
	}
	/* Called while the user is created, before the service expands its
	   own copy in place: %variables are expanded here for the module. */
	set = settings_dup(&smtp_submit_setting_parser_info, sets[i], pool);
	if (settings_var_expand(&smtp_submit_setting_parser_info, set, pool,
				mail_user_var_expand_table(user),
				&error) <= 0) {
		i_error("readreceipt: Failed to expand the submission "
			"settings: %s", error);
		return NULL;
	}
	return set;
}

int readreceipt_compat_mail_storage_settings_get(
	struct mail_user *user, const struct mail_storage_settings **set_r,
	const char **error_r ATTR_UNUSED)
{
	*set_r = mail_user_set_get_storage_set(user);
	return 0;
}

void readreceipt_compat_mail_storage_settings_free(
	const struct mail_storage_settings **set)
{
	/* the user's own */
	*set = NULL;
}

const char *readreceipt_compat_list_volatile_dir(struct mailbox_list *list)
{
	const char *dir = list->set.volatile_dir;

	return dir == NULL || dir[0] == '\0' ? NULL : dir;
}

bool readreceipt_compat_attribute_dict_enabled(struct mail_user *user)
{
	const struct mail_storage_settings *mail_set =
		mail_user_set_get_storage_set(user);

	return mail_set->mail_attribute_dict != NULL &&
		mail_set->mail_attribute_dict[0] != '\0';
}

bool readreceipt_compat_user_debug(struct mail_user *user)
{
	return user->mail_debug;
}

const struct ssl_iostream_settings *
readreceipt_compat_ssl_client_settings(struct mail_user *user,
				       struct ssl_iostream_settings *ssl_set)
{
	i_zero(ssl_set);
	mail_user_init_ssl_client_settings(user, ssl_set);
	return ssl_set;
}

#endif

int readreceipt_compat_userdb_lookup(struct mail_user *user, pool_t pool,
				     const char *const **fields_r,
				     const char **error_r)
{
	struct mail_storage_service_ctx *ctx;
	struct auth_master_connection *conn;
	struct auth_user_info info;
	const char *username;
	int ret;

#if DOVECOT_PREREQ(2, 4, 0)
	struct mail_storage_service_user *service_user = user->service_user;
#else
	struct mail_storage_service_user *service_user = user->_service_user;
#endif

	if (service_user == NULL) {
		*error_r = "The user has no mail storage service";
		return -1;
	}
	ctx = mail_storage_service_user_get_service_ctx(service_user);
	conn = mail_storage_service_get_auth_conn(ctx);
	if (conn == NULL) {
		*error_r = "No auth connection";
		return -1;
	}
	i_zero(&info);
#if DOVECOT_PREREQ(2, 4, 0)
	info.protocol = user->service;
#else
	info.service = user->service;
#endif
	ret = auth_master_user_lookup(conn, user->username, &info, pool,
				      &username, fields_r);
	if (ret < 0) {
		*error_r = (*fields_r != NULL && (*fields_r)[0] != NULL) ?
			t_strdup((*fields_r)[0]) : "userdb lookup failed";
		return -1;
	}
	return ret == 0 ? 0 : 1;
}
