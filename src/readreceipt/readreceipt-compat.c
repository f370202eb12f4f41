/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "settings-parser.h"
#include "smtp-submit-settings.h"
#include "mail-storage-service.h"
#include "readreceipt-compat.h"

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
