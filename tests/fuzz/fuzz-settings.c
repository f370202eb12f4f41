/* Copyright (c) dovecot-readreceipt authors */

/* libFuzzer target: the settings as plugin {} and userdb fields give them
   (readreceipt_settings_parse()).

   The input is one line per setting, LF-separated, in the order of
   readreceipt_setting_names[] (readreceipt_mode, readreceipt_domains,
   readreceipt_allow, readreceipt_prompt, ...), then the username. A line
   that starts with a NUL byte leaves its setting unset (a value never
   holds a NUL); settings after the last line are unset; a missing
   username is a fixed one. The hostname is fixed: it is the system's,
   and the default Reporting-UA takes it as it is.

   Besides crashes, the target checks what the parser promises: an error
   exactly when it returns -1, receipts disabled then, and values within
   the documented limits. */

#include "fuzz-common.h"
#include "array.h"
#include "str.h"
#include "readreceipt-settings.h"

#define FUZZ_USERNAME "user@example.com"
#define FUZZ_HOSTNAME "mx.example.com"

struct fuzz_settings_input {
	/* indexed like readreceipt_setting_names[]; NULL: not set */
	ARRAY_TYPE(const_string) values;
	const char *username;
	/* every value, each a heap block of its own (see fuzz_strndup()) */
	ARRAY(char *) allocated;
};

int LLVMFuzzerInitialize(int *argc ATTR_UNUSED, char ***argv ATTR_UNUSED)
{
	fuzz_init();
	return 0;
}

static const char *fuzz_lookup(const char *name, void *context)
{
	struct fuzz_settings_input *input = context;
	const char *const *values;
	unsigned int i, count;

	values = array_get(&input->values, &count);
	for (i = 0; readreceipt_setting_names[i] != NULL; i++) {
		if (strcmp(readreceipt_setting_names[i], name) == 0)
			return i < count ? values[i] : NULL;
	}
	i_panic("lookup of an unknown setting: %s", name);
}

static void
fuzz_settings_split(struct fuzz_settings_input *input,
		    const uint8_t *data, size_t size)
{
	unsigned int settings_count = str_array_length(readreceipt_setting_names);
	const uint8_t *end = data + size, *line_end;
	const char *value;
	char *copy;
	unsigned int line = 0;

	i_zero(input);
	t_array_init(&input->values, settings_count);
	t_array_init(&input->allocated, settings_count + 1);
	input->username = FUZZ_USERNAME;

	for (; data < end && line <= settings_count; line++) {
		line_end = memchr(data, '\n', end - data);
		if (line_end == NULL)
			line_end = end;
		if (line_end > data && data[0] == '\0')
			value = NULL;
		else {
			copy = fuzz_strndup(data, line_end - data);
			array_push_back(&input->allocated, &copy);
			value = copy;
		}

		if (line < settings_count)
			array_push_back(&input->values, &value);
		else
			input->username = value;
		if (line_end == end)
			break;
		data = line_end + 1;
	}
}

/* A domain entry: lowercase, and with '.' only where a domain has it. */
static void fuzz_check_domain(const char *domain)
{
	const char *p;

	i_assert(domain[0] != '\0');
	for (p = domain; *p != '\0'; p++) {
		i_assert(*p < 'A' || *p > 'Z');
		i_assert(*p != '@' && *p != ' ' && *p != ',');
	}
}

static void fuzz_check_settings(const struct readreceipt_settings *set)
{
	const char *entry, *value;
	unsigned int i;

	array_foreach_elem(&set->domains, entry)
		fuzz_check_domain(entry[0] == '.' ? entry + 1 : entry);
	i_assert(array_count(&set->allow) <= READRECEIPT_ALLOW_MAX_ENTRIES);
	array_foreach_elem(&set->allow, entry) {
		i_assert(strlen(entry) <= READRECEIPT_ALLOW_MAX_ENTRY_LEN);
		if (entry[0] == '@')
			fuzz_check_domain(entry + 1);
		else {
			i_assert(strchr(entry, '@') != NULL);
			fuzz_check_domain(strrchr(entry, '@') + 1);
		}
	}
	if (set->user_email != NULL) {
		i_assert(strchr(set->user_email, '@') != NULL);
		fuzz_check_domain(strrchr(set->user_email, '@') + 1);
	}
	i_assert(set->bulk_limit >= 1);
	i_assert(set->submission_timeout_secs >= 1);
	/* the Reporting-UA field must not be able to add fields of its
	   own to the receipt */
	i_assert(set->reporting_ua != NULL);
	for (value = set->reporting_ua; *value != '\0'; value++) {
		i_assert((unsigned char)*value >= 0x20 &&
			 (unsigned char)*value < 0x7f);
	}

	(void)readreceipt_mode_to_str(set->mode);
	for (i = 0; readreceipt_setting_names[i] != NULL; i++) {
		value = readreceipt_settings_value(set,
						   readreceipt_setting_names[i]);
		i_assert(value != NULL);
	}
	i_assert(readreceipt_settings_value(set, "readreceipt_unknown") == NULL);
}

static void fuzz_settings_input(const uint8_t *data, size_t size)
{
	struct fuzz_settings_input input;
	struct readreceipt_settings *set = NULL;
	const char *error = NULL;
	char *value;
	pool_t pool;
	int ret;

	fuzz_settings_split(&input, data, size);
	pool = pool_alloconly_create("fuzz settings", 1024);
	ret = readreceipt_settings_parse(pool, fuzz_lookup, &input,
					 input.username, FUZZ_HOSTNAME,
					 &set, &error);
	i_assert(set != NULL);
	if (ret == 0) {
		i_assert(set->error == NULL);
	} else {
		i_assert(ret == -1);
		i_assert(error != NULL && error == set->error);
		i_assert(set->mode == READRECEIPT_MODE_DISABLED);
	}
	fuzz_check_settings(set);
	pool_unref(&pool);

	array_foreach_elem(&input.allocated, value)
		free(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	T_BEGIN {
		fuzz_settings_input(data, size);
	} T_END;
	return 0;
}
