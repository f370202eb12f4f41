/* Copyright (c) dovecot-readreceipt authors */

#include "lib.h"
#include "array.h"
#include "net.h"
#include "str.h"
#include "str-sanitize.h"
#include "strnum.h"
#include "readreceipt-address.h"
#include "readreceipt-compat.h"
#include "readreceipt-settings.h"
#include "readreceipt-settings-table.h"

#include <ctype.h>

/* How much of an offending value an error message quotes. */
#define READRECEIPT_SETTINGS_ERROR_VALUE_MAX 40
/* Reporting-UA is written on one header line of the MDN; this keeps it far
   below the 998 octets a line may have. */
#define READRECEIPT_REPORTING_UA_MAX_LEN 200
#define READRECEIPT_SUBMISSION_TIMEOUT_MAX 300
/* RFC 1035 limits */
#define READRECEIPT_DOMAIN_MAX_LEN 253
#define READRECEIPT_DOMAIN_LABEL_MAX_LEN 63

#define READRECEIPT_LIST_SEPARATORS " ,\t"

/* Indexed by enum readreceipt_mode, _unprompted and _request. */
static const char *const readreceipt_mode_names[] = {
	"disabled", "internal", "any", NULL
};
static const char *const readreceipt_unprompted_names[] = {
	"defer", "send", "ignore", NULL
};
static const char *const readreceipt_request_names[] = {
	"strip", "reject", "allow", NULL
};

#define READRECEIPT_SETTING_DEF(name, field, type, values, min, max, \
				default_value, ...) \
	{ "readreceipt_" #name, READRECEIPT_SETTING_TYPE_##type, \
	  values, min, max, default_value },
const struct readreceipt_setting_def readreceipt_setting_defs[] = {
	READRECEIPT_SETTINGS_TABLE(READRECEIPT_SETTING_DEF)
	{ .name = NULL }
};
#undef READRECEIPT_SETTING_DEF

#define READRECEIPT_SETTING_NAME(name, ...) "readreceipt_" #name,
const char *const readreceipt_setting_names[] = {
	READRECEIPT_SETTINGS_TABLE(READRECEIPT_SETTING_NAME)
	NULL
};
#undef READRECEIPT_SETTING_NAME
const unsigned int readreceipt_setting_count =
	N_ELEMENTS(readreceipt_setting_names) - 1;

const char *readreceipt_userdb_field_value(const char *field,
					   const char *name)
{
	size_t name_len = strlen(name);

	if (str_begins_with(field, READRECEIPT_USERDB_PLUGIN_PREFIX))
		field += strlen(READRECEIPT_USERDB_PLUGIN_PREFIX);
	if (strncmp(field, name, name_len) != 0)
		return NULL;
	if (field[name_len] == '\0') {
		/* Dovecot reads a field without a value as "yes" */
		return "yes";
	}
	if (field[name_len] == '=')
		return field + name_len + 1;
	/* another key that starts with name */
	return NULL;
}

const char *readreceipt_userdb_fields_value(const char *const *fields,
					    const char *name)
{
	const char *value;

	for (; fields != NULL && *fields != NULL; fields++) {
		value = readreceipt_userdb_field_value(*fields, name);
		if (value != NULL)
			return value;
	}
	return NULL;
}


struct readreceipt_settings_parser {
	pool_t pool;
	readreceipt_setting_lookup_t *lookup;
	void *context;
	struct readreceipt_settings *set;
	/* for the defaults of readreceipt_user_email and _reporting_ua */
	const char *username, *hostname;
	/* readreceipt_domains is set (else it is derived from
	   readreceipt_user_email) */
	bool domains_set;

	/* the first problem found, in the documented order of settings */
	const char *error;
};

static const char *
readreceipt_settings_get(struct readreceipt_settings_parser *parser,
			 const struct readreceipt_setting_def *def)
{
	return parser->lookup(def->name, parser->context);
}

static void ATTR_FORMAT(3, 4)
readreceipt_settings_error(struct readreceipt_settings_parser *parser,
			   const struct readreceipt_setting_def *def,
			   const char *fmt, ...)
{
	va_list args;

	/* Later problems are not reported: a user whose settings are broken
	   gets no receipts either way, and the first one is what the admin
	   fixes first. */
	if (parser->error != NULL)
		return;

	va_start(args, fmt);
	parser->error = p_strdup_printf(parser->pool, "%s: %s", def->name,
					t_strdup_vprintf(fmt, args));
	va_end(args);
}

/* The value as an error message shows it: quoted, without control
   characters, and shortened when long. */
static const char *readreceipt_settings_quote(const char *value)
{
	return t_strdup_printf("\"%s\"", str_sanitize(value,
		READRECEIPT_SETTINGS_ERROR_VALUE_MAX + 3));
}

/* Scalar settings set to "" count as not set, so that a userdb field can
   hand a user back to the default. Lists are different: an empty list is a
   meaningful value ("readreceipt_exclude =" excludes nothing). */
static const char *
readreceipt_settings_get_scalar(struct readreceipt_settings_parser *parser,
				const struct readreceipt_setting_def *def)
{
	const char *value = readreceipt_settings_get(parser, def);

	return value == NULL || value[0] == '\0' ? NULL : value;
}

/* An unset list takes its default; a set one, even "", its own entries. */
static const char *const *
readreceipt_settings_get_list(struct readreceipt_settings_parser *parser,
			      const struct readreceipt_setting_def *def)
{
	const char *value = readreceipt_settings_get(parser, def);

	if (value == NULL)
		value = def->default_value;
	return t_strsplit_spaces(value, READRECEIPT_LIST_SEPARATORS);
}

static ARRAY_TYPE(const_string)
readreceipt_settings_list_new(struct readreceipt_settings_parser *parser)
{
	ARRAY_TYPE(const_string) list;

	p_array_init(&list, parser->pool, 4);
	return list;
}

static void
readreceipt_settings_list_add(struct readreceipt_settings_parser *parser,
			      ARRAY_TYPE(const_string) *list,
			      const char *entry)
{
	entry = p_strdup(parser->pool, entry);
	array_push_back(list, &entry);
}

static unsigned int
readreceipt_settings_enum_index(const char *const *values, const char *value)
{
	unsigned int i;

	for (i = 0; values[i] != NULL; i++) {
		if (strcmp(value, values[i]) == 0)
			return i;
	}
	return UINT_MAX;
}

static unsigned int
readreceipt_settings_parse_ENUM(struct readreceipt_settings_parser *parser,
				const struct readreceipt_setting_def *def)
{
	const char *value = readreceipt_settings_get_scalar(parser, def);
	unsigned int i, count, default_idx;
	string_t *expected;

	default_idx = readreceipt_settings_enum_index(def->values,
						      def->default_value);
	i_assert(default_idx != UINT_MAX);
	if (value == NULL)
		return default_idx;
	i = readreceipt_settings_enum_index(def->values, value);
	if (i != UINT_MAX)
		return i;

	count = str_array_length(def->values);
	expected = t_str_new(64);
	for (i = 0; i < count; i++) {
		if (i > 0)
			str_append(expected, i + 1 < count ? ", " : " or ");
		str_append(expected, def->values[i]);
	}
	readreceipt_settings_error(parser, def,
		"unknown value %s (expected %s)",
		readreceipt_settings_quote(value), str_c(expected));
	return default_idx;
}

static bool
readreceipt_settings_bool_value(const char *value, bool *result_r)
{
	/* the spellings Dovecot's own settings accept */
	if (strcasecmp(value, "yes") == 0 || strcasecmp(value, "true") == 0 ||
	    strcmp(value, "1") == 0)
		*result_r = TRUE;
	else if (strcasecmp(value, "no") == 0 ||
		 strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0)
		*result_r = FALSE;
	else
		return FALSE;
	return TRUE;
}

static bool
readreceipt_settings_parse_BOOL(struct readreceipt_settings_parser *parser,
				const struct readreceipt_setting_def *def)
{
	const char *value = readreceipt_settings_get_scalar(parser, def);
	bool result, default_result;

	if (!readreceipt_settings_bool_value(def->default_value,
					     &default_result))
		i_unreached();
	if (value == NULL)
		return default_result;
	if (readreceipt_settings_bool_value(value, &result))
		return result;
	readreceipt_settings_error(parser, def,
		"invalid value %s (expected yes or no)",
		readreceipt_settings_quote(value));
	return default_result;
}

static unsigned int
readreceipt_settings_parse_uint(struct readreceipt_settings_parser *parser,
				const struct readreceipt_setting_def *def,
				const char *unit)
{
	const char *value = readreceipt_settings_get_scalar(parser, def);
	unsigned int num, default_num;

	if (str_to_uint(def->default_value, &default_num) < 0)
		i_unreached();
	if (value == NULL)
		return default_num;
	if (str_to_uint(value, &num) < 0) {
		readreceipt_settings_error(parser, def,
			"invalid value %s (expected a number)",
			readreceipt_settings_quote(value));
		return default_num;
	}
	if (num < def->min || num > def->max) {
		if (def->max == UINT_MAX) {
			readreceipt_settings_error(parser, def,
				"value %s out of range "
				"(expected at least %u%s)",
				readreceipt_settings_quote(value), def->min,
				unit);
		} else {
			readreceipt_settings_error(parser, def,
				"value %s out of range (expected %u to %u%s)",
				readreceipt_settings_quote(value), def->min,
				def->max, unit);
		}
		return default_num;
	}
	return num;
}

static unsigned int
readreceipt_settings_parse_NUMBER(struct readreceipt_settings_parser *parser,
				  const struct readreceipt_setting_def *def)
{
	return readreceipt_settings_parse_uint(parser, def, "");
}

static unsigned int
readreceipt_settings_parse_SECONDS(
	struct readreceipt_settings_parser *parser,
	const struct readreceipt_setting_def *def)
{
	return readreceipt_settings_parse_uint(parser, def, " seconds");
}

/* A time as Dovecot's own settings take it ("30d", "12h", "90 secs",
   "0"). */
static unsigned int
readreceipt_settings_parse_TIME(struct readreceipt_settings_parser *parser,
				const struct readreceipt_setting_def *def)
{
	const char *value = readreceipt_settings_get_scalar(parser, def);
	const char *error;
	unsigned int secs;

	if (value == NULL)
		value = def->default_value;
	if (readreceipt_compat_parse_interval(value, &secs, &error) < 0) {
		readreceipt_settings_error(parser, def,
			"invalid value %s (expected a time such as 30d, 12h "
			"or 0): %s", readreceipt_settings_quote(value), error);
		if (readreceipt_compat_parse_interval(def->default_value, &secs,
						      &error) < 0)
			i_unreached();
	}
	return secs;
}

/* A host or domain name: dot-separated labels of letters, digits and '-'
   (not at either end of a label). */
static bool readreceipt_settings_is_domain(const char *str)
{
	size_t len = strlen(str), label_len = 0, i;

	if (len == 0 || len > READRECEIPT_DOMAIN_MAX_LEN)
		return FALSE;
	for (i = 0; i <= len; i++) {
		if (str[i] == '.' || str[i] == '\0') {
			if (label_len == 0 || str[i-1] == '-')
				return FALSE;
			label_len = 0;
		} else if (i_isalnum(str[i]) ||
			   (str[i] == '-' && label_len > 0)) {
			if (++label_len > READRECEIPT_DOMAIN_LABEL_MAX_LEN)
				return FALSE;
		} else {
			return FALSE;
		}
	}
	return TRUE;
}

/* Not set: empty here, and the domain of readreceipt_user_email once that
   is known (readreceipt_settings_parse_all()). */
static ARRAY_TYPE(const_string)
readreceipt_settings_parse_DOMAINS(
	struct readreceipt_settings_parser *parser,
	const struct readreceipt_setting_def *def)
{
	ARRAY_TYPE(const_string) list = readreceipt_settings_list_new(parser);
	const char *const *entries;
	const char *value, *entry, *domain;
	unsigned int i;

	value = readreceipt_settings_get(parser, def);
	parser->domains_set = value != NULL;
	if (value == NULL)
		return list;
	entries = t_strsplit_spaces(value, READRECEIPT_LIST_SEPARATORS);
	for (i = 0; entries[i] != NULL; i++) {
		entry = entries[i];
		/* ".example.com" also covers the subdomains */
		domain = entry[0] == '.' ? entry + 1 : entry;
		if (!readreceipt_settings_is_domain(domain)) {
			readreceipt_settings_error(parser, def,
				"entry %u (%s): not a domain name", i + 1,
				readreceipt_settings_quote(entry));
			continue;
		}
		readreceipt_settings_list_add(parser, &list,
					      t_str_lcase(entry));
	}
	return list;
}

static int
readreceipt_settings_allow_entry(const char *entry, const char **entry_r,
				 const char **error_r)
{
	if (entry[0] == '@') {
		if (!readreceipt_settings_is_domain(entry + 1)) {
			*error_r = "not a domain name after '@'";
			return -1;
		}
		*entry_r = t_str_lcase(entry);
		return 0;
	}
	if (readreceipt_address_normalize(entry, entry_r, error_r) < 0) {
		*error_r = t_strconcat("invalid address: ", *error_r, NULL);
		return -1;
	}
	return 0;
}

static ARRAY_TYPE(const_string)
readreceipt_settings_parse_ALLOW(struct readreceipt_settings_parser *parser,
				 const struct readreceipt_setting_def *def)
{
	ARRAY_TYPE(const_string) list = readreceipt_settings_list_new(parser);
	const char *const *entries;
	const char *entry, *error;
	unsigned int i;

	entries = readreceipt_settings_get_list(parser, def);
	for (i = 0; entries[i] != NULL; i++) {
		if (i == READRECEIPT_ALLOW_MAX_ENTRIES) {
			/* Only the first extra entry is named; the ones that
			   fit are kept for display. */
			readreceipt_settings_error(parser, def,
				"entry %u (%s): more than %u entries", i + 1,
				readreceipt_settings_quote(entries[i]),
				READRECEIPT_ALLOW_MAX_ENTRIES);
			break;
		}
		if (strlen(entries[i]) > READRECEIPT_ALLOW_MAX_ENTRY_LEN) {
			readreceipt_settings_error(parser, def,
				"entry %u (%s): longer than %u characters",
				i + 1, readreceipt_settings_quote(entries[i]),
				READRECEIPT_ALLOW_MAX_ENTRY_LEN);
			continue;
		}
		if (readreceipt_settings_allow_entry(entries[i], &entry,
						     &error) < 0) {
			readreceipt_settings_error(parser, def,
				"entry %u (%s): %s", i + 1,
				readreceipt_settings_quote(entries[i]), error);
			continue;
		}
		readreceipt_settings_list_add(parser, &list, entry);
	}
	return list;
}

/* Globs match case-insensitively, so they are kept as written. */
static ARRAY_TYPE(const_string)
readreceipt_settings_parse_GLOBS(struct readreceipt_settings_parser *parser,
				 const struct readreceipt_setting_def *def)
{
	ARRAY_TYPE(const_string) list = readreceipt_settings_list_new(parser);
	const char *const *entries;

	for (entries = readreceipt_settings_get_list(parser, def);
	     *entries != NULL; entries++)
		readreceipt_settings_list_add(parser, &list, *entries);
	return list;
}

static ARRAY_TYPE(const_string)
readreceipt_settings_parse_EXCLUDE(
	struct readreceipt_settings_parser *parser,
	const struct readreceipt_setting_def *def)
{
	ARRAY_TYPE(const_string) list = readreceipt_settings_list_new(parser);
	const char *const *entries;
	const char *entry;
	unsigned int i, j;

	entries = readreceipt_settings_get_list(parser, def);
	for (i = 0; entries[i] != NULL; i++) {
		entry = entries[i];
		if (entry[0] == '\\') {
			/* A special-use flag: syntax only, so that flags
			   this list does not know still work. */
			j = 1;
			while (i_isalpha(entry[j]))
				j++;
			if (j == 1 || entry[j] != '\0') {
				readreceipt_settings_error(parser, def,
					"entry %u (%s): not a special-use flag",
					i + 1,
					readreceipt_settings_quote(entry));
				continue;
			}
		}
		readreceipt_settings_list_add(parser, &list, entry);
	}
	return list;
}

static const char *
readreceipt_settings_parse_USER_EMAIL(
	struct readreceipt_settings_parser *parser,
	const struct readreceipt_setting_def *def)
{
	const char *value, *addr, *error;

	value = readreceipt_settings_get_scalar(parser, def);
	if (value == NULL) {
		/* the username, when it is an address */
		if (parser->username != NULL &&
		    readreceipt_address_normalize(parser->username, &addr,
						  &error) == 0)
			return p_strdup(parser->pool, addr);
		return NULL;
	}
	if (readreceipt_address_normalize(value, &addr, &error) < 0) {
		/* Left NULL rather than guessed from the username: receipts
		   are off for this user anyway, and a display then shows
		   that the address is unknown. */
		readreceipt_settings_error(parser, def,
			"invalid address %s (%s)",
			readreceipt_settings_quote(value), error);
		return NULL;
	}
	return p_strdup(parser->pool, addr);
}

static const char *
readreceipt_settings_parse_HOST(struct readreceipt_settings_parser *parser,
				const struct readreceipt_setting_def *def)
{
	const char *value, *host, *error = NULL;
	struct ip_addr ip;
	in_port_t port;

	value = readreceipt_settings_get_scalar(parser, def);
	if (value == NULL)
		return NULL;

	/* The same forms Dovecot's submission_host takes: host, host:port,
	   IPv6 or [IPv6]:port. */
	if (net_str2hostport(value, 0, &host, &port) < 0)
		error = "expected host or host:port, port 1-65535";
	else if (value[0] == '[' || strchr(host, ':') != NULL) {
		if (strchr(host, ':') == NULL ||
		    net_addr2ip(host, &ip) < 0)
			error = "invalid IPv6 address";
	} else if (!readreceipt_settings_is_domain(host))
		error = "invalid host name";

	if (error != NULL) {
		readreceipt_settings_error(parser, def,
			"invalid value %s (%s)",
			readreceipt_settings_quote(value), error);
		return NULL;
	}
	return p_strdup(parser->pool, value);
}

static const char *
readreceipt_settings_reporting_ua_default(pool_t pool, const char *hostname)
{
	if (hostname == NULL || hostname[0] == '\0')
		return READRECEIPT_REPORTING_UA_PRODUCT;
	return p_strconcat(pool, hostname, "; ",
			   READRECEIPT_REPORTING_UA_PRODUCT, NULL);
}

/* The default until a valid value replaces it, so that what a display
   shows is what would be sent. "" omits the field. */
static const char *
readreceipt_settings_parse_REPORTING_UA(
	struct readreceipt_settings_parser *parser,
	const struct readreceipt_setting_def *def)
{
	const char *value, *p;

	value = readreceipt_settings_get(parser, def);
	if (value == NULL) {
		return readreceipt_settings_reporting_ua_default(parser->pool,
			parser->hostname);
	}

	/* The value becomes a header field of a 7bit MIME part: a CR or LF
	   would let it add fields of its own. */
	for (p = value; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			break;
	}
	if (*p != '\0') {
		readreceipt_settings_error(parser, def,
			"invalid value %s (only printable ASCII is allowed)",
			readreceipt_settings_quote(value));
	} else if (strlen(value) > READRECEIPT_REPORTING_UA_MAX_LEN) {
		readreceipt_settings_error(parser, def,
			"invalid value %s (longer than %u characters)",
			readreceipt_settings_quote(value),
			READRECEIPT_REPORTING_UA_MAX_LEN);
	} else {
		return p_strdup(parser->pool, value);
	}
	return readreceipt_settings_reporting_ua_default(parser->pool,
							 parser->hostname);
}

static void
readreceipt_settings_parse_all(struct readreceipt_settings_parser *parser)
{
	struct readreceipt_settings *set = parser->set;
	const struct readreceipt_setting_def *def = readreceipt_setting_defs;
	const char *domain;

	/* every setting in the documented order, so that the first error
	   reported is the first one in the documentation */
#define READRECEIPT_SETTING_PARSE(name, field, type, ...) \
	set->field = readreceipt_settings_parse_##type(parser, def++);
	READRECEIPT_SETTINGS_TABLE(READRECEIPT_SETTING_PARSE)
#undef READRECEIPT_SETTING_PARSE
	i_assert(def->name == NULL);

	if (!parser->domains_set && set->user_email != NULL) {
		domain = p_strdup(parser->pool,
			readreceipt_address_domain(set->user_email));
		array_push_back(&set->domains, &domain);
	}
}

int readreceipt_settings_parse(pool_t pool,
			       readreceipt_setting_lookup_t *lookup,
			       void *context, const char *username,
			       const char *hostname,
			       struct readreceipt_settings **set_r,
			       const char **error_r)
{
	struct readreceipt_settings_parser parser;
	struct readreceipt_settings *set;

	set = p_new(pool, struct readreceipt_settings, 1);

	i_zero(&parser);
	parser.pool = pool;
	parser.lookup = lookup;
	parser.context = context;
	parser.set = set;
	parser.username = username;
	parser.hostname = hostname;

	/* Temporary strings go to the data stack; a data stack pool has to
	   stay in its own frame. */
	if (pool->datastack_pool)
		readreceipt_settings_parse_all(&parser);
	else T_BEGIN {
		readreceipt_settings_parse_all(&parser);
	} T_END;

	*set_r = set;
	if (parser.error != NULL) {
		/* Invalid settings never lock the user out of mail: they
		   only stop receipts. */
		set->mode = READRECEIPT_MODE_DISABLED;
		set->error = parser.error;
		*error_r = parser.error;
		return -1;
	}
	return 0;
}

const char *readreceipt_mode_to_str(enum readreceipt_mode mode)
{
	switch (mode) {
	case READRECEIPT_MODE_DISABLED:
	case READRECEIPT_MODE_INTERNAL:
	case READRECEIPT_MODE_ANY:
		return readreceipt_mode_names[mode];
	}
	i_unreached();
}

/* How each type is shown: as a configuration writes it. */
static const char *
readreceipt_settings_format_ENUM(const struct readreceipt_setting_def *def,
				 unsigned int value)
{
	return def->values[value];
}

static const char *
readreceipt_settings_format_BOOL(const struct readreceipt_setting_def *def
				 ATTR_UNUSED, bool value)
{
	return value ? "yes" : "no";
}

static const char *
readreceipt_settings_format_NUMBER(const struct readreceipt_setting_def *def
				   ATTR_UNUSED, unsigned int value)
{
	return dec2str(value);
}

static const char *
readreceipt_settings_format_TIME(const struct readreceipt_setting_def *def
				 ATTR_UNUSED, unsigned int secs)
{
	if (secs == 0)
		return "0";
	if (secs % (24 * 3600) == 0)
		return t_strdup_printf("%ud", secs / (24 * 3600));
	if (secs % 3600 == 0)
		return t_strdup_printf("%uh", secs / 3600);
	if (secs % 60 == 0)
		return t_strdup_printf("%um", secs / 60);
	return t_strdup_printf("%us", secs);
}

static const char *
readreceipt_settings_format_list(const struct readreceipt_setting_def *def
				 ATTR_UNUSED, ARRAY_TYPE(const_string) list)
{
	string_t *str = t_str_new(128);
	const char *entry;

	array_foreach_elem(&list, entry) {
		if (str_len(str) > 0)
			str_append_c(str, ' ');
		str_append(str, entry);
	}
	return str_c(str);
}

/* "" for an address or host that is not set */
static const char *
readreceipt_settings_format_string(const struct readreceipt_setting_def *def
				   ATTR_UNUSED, const char *value)
{
	return value == NULL ? "" : value;
}

#define readreceipt_settings_format_SECONDS readreceipt_settings_format_NUMBER
#define readreceipt_settings_format_DOMAINS readreceipt_settings_format_list
#define readreceipt_settings_format_ALLOW readreceipt_settings_format_list
#define readreceipt_settings_format_GLOBS readreceipt_settings_format_list
#define readreceipt_settings_format_EXCLUDE readreceipt_settings_format_list
#define readreceipt_settings_format_USER_EMAIL \
	readreceipt_settings_format_string
#define readreceipt_settings_format_HOST readreceipt_settings_format_string
#define readreceipt_settings_format_REPORTING_UA \
	readreceipt_settings_format_string

void readreceipt_settings_values(const struct readreceipt_settings *set,
				 const char **values_r)
{
	const struct readreceipt_setting_def *def = readreceipt_setting_defs;
	unsigned int i = 0;

#define READRECEIPT_SETTING_VALUES(name_, field, type, ...) \
	values_r[i++] = readreceipt_settings_format_##type(def, set->field); \
	def++;
	READRECEIPT_SETTINGS_TABLE(READRECEIPT_SETTING_VALUES)
#undef READRECEIPT_SETTING_VALUES
	values_r[i] = NULL;
}

int readreceipt_setting_index(const char *name)
{
	unsigned int i;

	for (i = 0; i < readreceipt_setting_count; i++) {
		if (strcmp(readreceipt_setting_names[i], name) == 0)
			return (int)i;
	}
	return -1;
}

const char *
readreceipt_settings_value(const struct readreceipt_settings *set,
			   const char *name)
{
	const char **values;
	int idx = readreceipt_setting_index(name);

	if (idx < 0)
		return NULL;
	values = t_new(const char *, readreceipt_setting_count + 1);
	readreceipt_settings_values(set, values);
	return values[idx];
}
