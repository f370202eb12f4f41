#ifndef READRECEIPT_SETTINGS_INFO_H
#define READRECEIPT_SETTINGS_INFO_H

/* Dovecot 2.4 only: the readreceipt_* settings declared to Dovecot's
   settings, so that they are set at the top level of the configuration
   (or in a filter), overridden per user by userdb fields of the same
   name, and read with settings_get(). Every setting is a string: the
   module's own parser (readreceipt-settings.c) validates the values, so
   that a bad one disables receipts for the user instead of stopping
   doveconf or failing the user's login. */

#include "settings-parser.h"
#include "readreceipt-settings-table.h"

/* The values as configured, one field readreceipt_<name> per row of
   READRECEIPT_SETTINGS_TABLE. */
struct readreceipt_raw_settings {
	pool_t pool;

#define READRECEIPT_RAW_SETTING_FIELD(name, ...) \
	const char *readreceipt_##name;
	READRECEIPT_SETTINGS_TABLE(READRECEIPT_RAW_SETTING_FIELD)
#undef READRECEIPT_RAW_SETTING_FIELD
};

/* The default of readreceipt_domains: the domain of
   readreceipt_user_email (see readreceipt-settings-info.c). Not a domain
   name, so no valid list means the same. */
#define READRECEIPT_DOMAINS_DEFAULT_MARKER "$user_email_domain"

extern const struct setting_parser_info readreceipt_setting_parser_info;

/* The value of the named setting in set as the module's parser takes it:
   NULL when it is not set in 2.3's sense (readreceipt_domains at its
   default) and for a name that is not declared. */
const char *
readreceipt_raw_setting(const struct readreceipt_raw_settings *set,
			const char *name);
/* TRUE if the named setting holds its declared default. Compare values
   read without %variable expansion. */
bool readreceipt_raw_setting_is_default(
	const struct readreceipt_raw_settings *set, const char *name);

#endif
