#ifndef READRECEIPT_SETTINGS_H
#define READRECEIPT_SETTINGS_H

/* Parsing and validation of the readreceipt_* settings. Pure: values come
   from a lookup callback, so the same code serves plugin {} + userdb in a
   running Dovecot and plain tables in unit tests. */

#define READRECEIPT_ALLOW_MAX_ENTRIES 100
#define READRECEIPT_ALLOW_MAX_ENTRY_LEN 256

/* RFC 8098 3.2.1 ua-product: the product and its version (the build passes
   READRECEIPT_VERSION, AC_INIT's version) */
#define READRECEIPT_REPORTING_UA_PRODUCT \
	"dovecot-readreceipt/" READRECEIPT_VERSION

enum readreceipt_mode {
	READRECEIPT_MODE_DISABLED = 0,
	READRECEIPT_MODE_INTERNAL,
	READRECEIPT_MODE_ANY,
};

enum readreceipt_unprompted {
	READRECEIPT_UNPROMPTED_DEFER = 0,
	READRECEIPT_UNPROMPTED_SEND,
	READRECEIPT_UNPROMPTED_IGNORE,
};

enum readreceipt_request {
	READRECEIPT_REQUEST_STRIP = 0,
	READRECEIPT_REQUEST_REJECT,
	READRECEIPT_REQUEST_ALLOW,
};

/* How a setting's value is read, validated and shown. */
enum readreceipt_setting_type {
	READRECEIPT_SETTING_TYPE_ENUM,
	READRECEIPT_SETTING_TYPE_BOOL,
	READRECEIPT_SETTING_TYPE_NUMBER,
	READRECEIPT_SETTING_TYPE_SECONDS,
	READRECEIPT_SETTING_TYPE_TIME,
	READRECEIPT_SETTING_TYPE_DOMAINS,
	READRECEIPT_SETTING_TYPE_ALLOW,
	READRECEIPT_SETTING_TYPE_GLOBS,
	READRECEIPT_SETTING_TYPE_EXCLUDE,
	READRECEIPT_SETTING_TYPE_USER_EMAIL,
	READRECEIPT_SETTING_TYPE_HOST,
	READRECEIPT_SETTING_TYPE_REPORTING_UA,
};

/* One row of READRECEIPT_SETTINGS_TABLE (readreceipt-settings-table.h). */
struct readreceipt_setting_def {
	/* "readreceipt_..." */
	const char *name;
	enum readreceipt_setting_type type;
	/* ENUM: the values, indexed like the member's enum */
	const char *const *values;
	/* NUMBER, SECONDS: the range */
	unsigned int min, max;
	/* as a configuration writes it; NULL when it is derived */
	const char *default_value;
};

/* Every setting, in the order they are documented; ends with a NULL
   name. */
extern const struct readreceipt_setting_def readreceipt_setting_defs[];
/* Their names, in the same order, NULL-terminated. */
extern const char *const readreceipt_setting_names[];
/* how many there are */
extern const unsigned int readreceipt_setting_count;
/* The index of name in readreceipt_setting_names[], or -1. */
int readreceipt_setting_index(const char *name);

/* userdb fields that are not core settings reach plugin {} under this
   prefix (2.3); a userdb may also return them with it */
#define READRECEIPT_USERDB_PLUGIN_PREFIX "plugin/"

/* The value the userdb field ("key=value", "key" alone meaning "yes",
   either optionally prefixed "plugin/") gives the setting name, or NULL
   when the field is about another key. */
const char *readreceipt_userdb_field_value(const char *field,
					   const char *name);
/* The value of the first of fields (may be NULL) that sets name, or
   NULL. */
const char *readreceipt_userdb_fields_value(const char *const *fields,
					    const char *name);

struct readreceipt_settings {
	enum readreceipt_mode mode;
	/* lowercase domains; an entry starting with '.' also matches every
	   subdomain (".example.com" matches "a.example.com" and
	   "example.com") */
	ARRAY_TYPE(const_string) domains;
	/* "local@domain" (domain lowercased, local part as written but
	   unquoted) or "@domain" (lowercased) */
	ARRAY_TYPE(const_string) allow;
	bool prompt;
	/* "local@domain" with lowercased domain, or NULL when it is not
	   configured and the username is not an address */
	const char *user_email;
	enum readreceipt_unprompted unprompted;
	/* case-insensitive globs on the IMAP ID name */
	ARRAY_TYPE(const_string) prompt_clients;
	unsigned int bulk_limit;
	/* mailbox globs, or special-use flags starting with '\' */
	ARRAY_TYPE(const_string) exclude;
	unsigned int max_per_hour;
	bool hide_forbidden;
	enum readreceipt_request request;
	/* host[:port]; NULL when not set (caller falls back to Dovecot's
	   submission_host, then sendmail_path) */
	const char *submission_host;
	unsigned int submission_timeout_secs;
	/* "" = omit the Reporting-UA field */
	const char *reporting_ua;
	bool include_headers;
	/* a pending prompt nobody answered is dropped after this; 0 =
	   never */
	unsigned int pending_expire_secs;
	/* no decision is taken on settings older than this (SPEC §15); 0 =
	   read them again for every decision */
	unsigned int policy_refresh_secs;

	/* Set when any setting is invalid: names the setting and the entry.
	   mode is then forced to READRECEIPT_MODE_DISABLED. */
	const char *error;
};

/* Returns the value of the named setting, or NULL when it is not set. */
typedef const char *
readreceipt_setting_lookup_t(const char *name, void *context);

/* Parse all settings. username is used for the readreceipt_user_email
   default, hostname for the Reporting-UA default. Always fills *set_r
   (allocated from pool). Returns 0 if everything was valid, -1 if not: then
   (*set_r)->error == *error_r describes the first problem, naming the
   setting and the offending entry, and (*set_r)->mode is disabled. */
int readreceipt_settings_parse(pool_t pool,
			       readreceipt_setting_lookup_t *lookup,
			       void *context, const char *username,
			       const char *hostname,
			       struct readreceipt_settings **set_r,
			       const char **error_r);

const char *readreceipt_mode_to_str(enum readreceipt_mode mode);

/* The value of the named setting (one of readreceipt_setting_names[]) as
   set uses it, in the form the setting is written: lists space-separated,
   booleans yes/no, "" for an address or host that is not set. Allocated
   from the data stack; NULL for an unknown name. */
const char *
readreceipt_settings_value(const struct readreceipt_settings *set,
			   const char *name);
/* Every setting's value as readreceipt_settings_value() gives it, in the
   order of readreceipt_setting_names[], and NULL after the last:
   values_r has room for readreceipt_setting_count + 1. */
void readreceipt_settings_values(const struct readreceipt_settings *set,
				 const char **values_r);

#endif
