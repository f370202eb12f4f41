/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "settings-parser.h"
#include "readreceipt-settings.h"
#include "readreceipt-settings-info.h"

/* This file is compiled into the storage module, which reads the settings,
   and into the settings module, which makes doveconf know them: as
   Dovecot builds its own settings into its config process. */

#define READRECEIPT_RAW_SETTING_DEFINE(name, ...) \
	SETTING_DEFINE_STRUCT_STR("readreceipt_" #name, readreceipt_##name, \
				  struct readreceipt_raw_settings),
static const struct setting_define readreceipt_setting_defines[] = {
	READRECEIPT_SETTINGS_TABLE(READRECEIPT_RAW_SETTING_DEFINE)

	SETTING_DEFINE_LIST_END
};
#undef READRECEIPT_RAW_SETTING_DEFINE

/* Dovecot 2.3 hands the module NULL for a setting nobody set, and the
   parser gives NULL the documented default. 2.4 has no unset strings:
   every setting has a value here, chosen to mean what "not set" means on
   2.3 (a unit test parses these values and no values at all, and compares
   the results):
   - scalars (mode, yes/no, numbers, times): the documented default. The
     parser takes "" as not set as well, so that a userdb field
     "readreceipt_mode=" still hands a user back to the default.
   - USER_EMAIL, HOST: "", which the parser takes as not set (the
     username; Dovecot's submission_host).
   - ALLOW, GLOBS, EXCLUDE: the default list; "" stays an empty list, as on
     2.3.
   - REPORTING_UA: the 2.3 default, with the host name that it uses
     (my_hostname) as Dovecot's %{system:hostname}; "" still omits the
     field.
   - DOMAINS: READRECEIPT_DOMAINS_DEFAULT_MARKER, which
     readreceipt_raw_setting() turns into "not set" (the domain of
     readreceipt_user_email). "" stays an empty list; and no %variable
     holds the domain of readreceipt_user_email, which may itself be
     configured. The marker is not a domain name: on 2.3 the same value
     is invalid, so no valid configuration changes its meaning. */
#define READRECEIPT_RAW_DEFAULT_ENUM(value) value
#define READRECEIPT_RAW_DEFAULT_BOOL(value) value
#define READRECEIPT_RAW_DEFAULT_NUMBER(value) value
#define READRECEIPT_RAW_DEFAULT_SECONDS(value) value
#define READRECEIPT_RAW_DEFAULT_TIME(value) value
#define READRECEIPT_RAW_DEFAULT_ALLOW(value) value
#define READRECEIPT_RAW_DEFAULT_GLOBS(value) value
#define READRECEIPT_RAW_DEFAULT_EXCLUDE(value) value
#define READRECEIPT_RAW_DEFAULT_USER_EMAIL(value) ""
#define READRECEIPT_RAW_DEFAULT_HOST(value) ""
#define READRECEIPT_RAW_DEFAULT_REPORTING_UA(value) \
	"%{system:hostname}; " READRECEIPT_REPORTING_UA_PRODUCT
#define READRECEIPT_RAW_DEFAULT_DOMAINS(value) \
	READRECEIPT_DOMAINS_DEFAULT_MARKER

#define READRECEIPT_RAW_SETTING_DEFAULT(name, field, type, values, min, max, \
					default_value, ...) \
	.readreceipt_##name = READRECEIPT_RAW_DEFAULT_##type(default_value),
static const struct readreceipt_raw_settings readreceipt_default_settings = {
	READRECEIPT_SETTINGS_TABLE(READRECEIPT_RAW_SETTING_DEFAULT)
};
#undef READRECEIPT_RAW_SETTING_DEFAULT

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
	/* (the settings module, which holds this file too, does not have
	   readreceipt_setting_defs[]) */
	if (def->offset == offsetof(struct readreceipt_raw_settings,
				    readreceipt_domains) &&
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
