/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "settings-parser.h"
#include "readreceipt-settings.h"
#include "readreceipt-settings-info.h"

/* This file is compiled into the storage module, which reads the settings,
   and into the settings module, which makes doveconf know them: as
   Dovecot builds its own settings into its config process. */

#undef DEF
#define DEF(name) \
	SETTING_DEFINE_STRUCT_STR(#name, name, struct readreceipt_raw_settings)

static const struct setting_define readreceipt_setting_defines[] = {
	DEF(readreceipt_mode),
	DEF(readreceipt_domains),
	DEF(readreceipt_allow),
	DEF(readreceipt_prompt),
	DEF(readreceipt_user_email),
	DEF(readreceipt_unprompted),
	DEF(readreceipt_prompt_clients),
	DEF(readreceipt_bulk_limit),
	DEF(readreceipt_exclude),
	DEF(readreceipt_max_per_hour),
	DEF(readreceipt_hide_forbidden),
	DEF(readreceipt_request),
	DEF(readreceipt_submission_host),
	DEF(readreceipt_submission_timeout),
	DEF(readreceipt_reporting_ua),
	DEF(readreceipt_include_headers),
	DEF(readreceipt_pending_expire),
	DEF(readreceipt_policy_refresh),

	SETTING_DEFINE_LIST_END
};

/* Dovecot 2.3 hands the module NULL for a setting nobody set, and the
   parser gives NULL the documented default. 2.4 has no unset strings:
   every setting has a value here, chosen to mean what "not set" means on
   2.3 (a unit test parses these values and no values at all, and compares
   the results):
   - scalars (mode, yes/no, numbers, times): the documented default. The
     parser takes "" as not set as well, so that a userdb field
     "readreceipt_mode=" still hands a user back to the default.
   - readreceipt_user_email, readreceipt_submission_host: "", which the
     parser takes as not set (the username; Dovecot's submission_host).
   - readreceipt_allow, readreceipt_prompt_clients, readreceipt_exclude:
     the default list; "" stays an empty list, as on 2.3.
   - readreceipt_reporting_ua: the 2.3 default, with the host name that it
     uses (my_hostname) as Dovecot's %{system:hostname}; "" still omits the
     field.
   - readreceipt_domains: READRECEIPT_DOMAINS_DEFAULT_MARKER, which
     readreceipt_raw_setting() turns into "not set" (the domain of
     readreceipt_user_email). "" stays an empty list; and no %variable
     holds the domain of readreceipt_user_email, which may itself be
     configured. The marker is not a domain name: on 2.3 the same value
     is invalid, so no valid configuration changes its meaning. */
static const struct readreceipt_raw_settings readreceipt_default_settings = {
	.readreceipt_mode = READRECEIPT_MODE_DEFAULT,
	.readreceipt_domains = READRECEIPT_DOMAINS_DEFAULT_MARKER,
	.readreceipt_allow = "",
	.readreceipt_prompt = "yes",
	.readreceipt_user_email = "",
	.readreceipt_unprompted = READRECEIPT_UNPROMPTED_DEFAULT,
	.readreceipt_prompt_clients = READRECEIPT_PROMPT_CLIENTS_DEFAULT,
	.readreceipt_bulk_limit = "1",
	.readreceipt_exclude = READRECEIPT_EXCLUDE_DEFAULT,
	.readreceipt_max_per_hour = "100",
	.readreceipt_hide_forbidden = "yes",
	.readreceipt_request = READRECEIPT_REQUEST_DEFAULT,
	.readreceipt_submission_host = "",
	.readreceipt_submission_timeout = "5",
	.readreceipt_reporting_ua =
		"%{system:hostname}; " READRECEIPT_REPORTING_UA_PRODUCT,
	.readreceipt_include_headers = "no",
	.readreceipt_pending_expire = READRECEIPT_PENDING_EXPIRE_DEFAULT,
	.readreceipt_policy_refresh = READRECEIPT_POLICY_REFRESH_DEFAULT,
};

const struct setting_parser_info readreceipt_setting_parser_info = {
	.name = "readreceipt",
	.plugin_dependency = "lib20_readreceipt_plugin",

	.defines = readreceipt_setting_defines,
	.defaults = &readreceipt_default_settings,

	.struct_size = sizeof(struct readreceipt_raw_settings),
	.pool_offset1 = 1 + offsetof(struct readreceipt_raw_settings, pool),
};

static const struct setting_define *
readreceipt_raw_setting_define(const char *name)
{
	const struct setting_define *def;

	for (def = readreceipt_setting_defines; def->key != NULL; def++) {
		if (strcmp(def->key, name) == 0)
			return def;
	}
	return NULL;
}

static const char *
readreceipt_raw_setting_field(const struct readreceipt_raw_settings *set,
			      const struct setting_define *def)
{
	const char *const *value = CONST_PTR_OFFSET(set, def->offset);

	return *value;
}

const char *
readreceipt_raw_setting(const struct readreceipt_raw_settings *set,
			const char *name)
{
	const struct setting_define *def = readreceipt_raw_setting_define(name);
	const char *value;

	if (def == NULL)
		return NULL;
	value = readreceipt_raw_setting_field(set, def);
	if (strcmp(name, "readreceipt_domains") == 0 &&
	    strcmp(value, READRECEIPT_DOMAINS_DEFAULT_MARKER) == 0)
		return NULL;
	return value;
}

bool readreceipt_raw_setting_is_default(
	const struct readreceipt_raw_settings *set, const char *name)
{
	const struct setting_define *def = readreceipt_raw_setting_define(name);

	if (def == NULL)
		return TRUE;
	return strcmp(readreceipt_raw_setting_field(set, def),
		      readreceipt_raw_setting_field(
				&readreceipt_default_settings, def)) == 0;
}
