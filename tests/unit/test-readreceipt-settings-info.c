/* Copyright (c) dovecot-readreceipt authors */

/* Dovecot 2.4 only: the settings as declared to Dovecot's settings, read
   with settings_get() as the storage module reads them. */

#include "test-common.h"
#include "array.h"
#include "hostpid.h"
#include "settings.h"
#include "readreceipt-settings.h"
#include "readreceipt-settings-info.h"

#define TEST_USERNAME "user@example.com"

struct test_settings {
	struct settings_simple simple;
	const struct readreceipt_raw_settings *raw;
};

/* settings: key, value pairs set as the configuration would, userdb: as
   userdb fields would (both NULL-terminated, may be NULL). */
static void
test_settings_get(struct test_settings *ts, const char *const *settings,
		  const char *const *userdb, enum settings_get_flags flags)
{
	static const char *const no_settings[] = { NULL };
	const char *error;

	i_zero(ts);
	settings_simple_init(&ts->simple, no_settings);
	for (; settings != NULL && settings[0] != NULL; settings += 2) {
		settings_override(ts->simple.instance, settings[0],
				  settings[1], SETTINGS_OVERRIDE_TYPE_DEFAULT);
	}
	for (; userdb != NULL && userdb[0] != NULL; userdb += 2) {
		settings_override(ts->simple.instance, userdb[0], userdb[1],
				  SETTINGS_OVERRIDE_TYPE_USERDB);
	}
	if (settings_get(ts->simple.event, &readreceipt_setting_parser_info,
			 flags, &ts->raw, &error) < 0)
		fail_msg("settings_get() failed: %s", error);
}

static void test_settings_free(struct test_settings *ts)
{
	settings_free(ts->raw);
	settings_simple_deinit(&ts->simple);
}

static const char *test_raw_lookup(const char *name, void *context)
{
	const struct readreceipt_raw_settings *raw = context;

	return readreceipt_raw_setting(raw, name);
}

static const char *
test_unset_lookup(const char *name ATTR_UNUSED, void *context ATTR_UNUSED)
{
	return NULL;
}

/* Every name the parser knows is declared, as a string, and nothing
   else is. */
static void test_info_names(void **state ATTR_UNUSED)
{
	const struct setting_define *def;
	const char *const *name;
	unsigned int count = 0;

	for (def = readreceipt_setting_parser_info.defines; def->key != NULL;
	     def++) {
		if (!str_array_find(readreceipt_setting_names, def->key))
			fail_msg("%s is declared, but not a setting", def->key);
		if (def->type != SET_STR)
			fail_msg("%s is not declared as a string", def->key);
		count++;
	}
	for (name = readreceipt_setting_names; *name != NULL; name++) {
		for (def = readreceipt_setting_parser_info.defines;
		     def->key != NULL; def++) {
			if (strcmp(def->key, *name) == 0)
				break;
		}
		if (def->key == NULL)
			fail_msg("%s is not declared", *name);
	}
	assert_int_equal(count, str_array_length(readreceipt_setting_names));
	assert_string_equal(readreceipt_setting_parser_info.name,
			    "readreceipt");
	assert_string_equal(readreceipt_setting_parser_info.plugin_dependency,
			    "lib20_readreceipt_plugin");
}

/* The declared defaults mean what "not set" means on 2.3: parsed, they
   give exactly what no values at all give. */
static void test_info_defaults(void **state ATTR_UNUSED)
{
	struct readreceipt_settings *set_defaults, *set_unset;
	const char *const *name, *error, *value_defaults, *value_unset;
	struct test_settings ts;
	pool_t pool;

	pool = pool_alloconly_create("test settings info", 1024);
	test_settings_get(&ts, NULL, NULL, 0);
	/* %{system:hostname} expanded */
	assert_string_equal(ts.raw->readreceipt_reporting_ua,
			    t_strconcat(my_hostname, "; ",
					READRECEIPT_REPORTING_UA_PRODUCT,
					NULL));
	assert_null(readreceipt_raw_setting(ts.raw, "readreceipt_domains"));
	if (readreceipt_settings_parse(pool, test_raw_lookup, (void *)ts.raw,
				       TEST_USERNAME, my_hostname,
				       &set_defaults, &error) < 0)
		fail_msg("the defaults are invalid: %s", error);
	assert_int_equal(readreceipt_settings_parse(pool, test_unset_lookup,
		NULL, TEST_USERNAME, my_hostname, &set_unset, &error), 0);
	for (name = readreceipt_setting_names; *name != NULL; name++) {
		value_defaults = readreceipt_settings_value(set_defaults,
							    *name);
		value_unset = readreceipt_settings_value(set_unset, *name);
		if (strcmp(value_defaults, value_unset) != 0) {
			fail_msg("%s: the default \"%s\" parses to \"%s\", "
				 "not set is \"%s\"", *name,
				 readreceipt_raw_setting(ts.raw, *name),
				 value_defaults, value_unset);
		}
	}
	/* NULL and unset alike */
	assert_null(set_defaults->submission_host);
	assert_string_equal(set_defaults->user_email, TEST_USERNAME);
	test_settings_free(&ts);

	/* unexpanded, every default is the default */
	test_settings_get(&ts, NULL, NULL, SETTINGS_GET_FLAG_NO_EXPAND);
	for (name = readreceipt_setting_names; *name != NULL; name++) {
		if (!readreceipt_raw_setting_is_default(ts.raw, *name))
			fail_msg("%s is not at its default", *name);
	}
	test_settings_free(&ts);
	pool_unref(&pool);
}

/* Set values come through as written, "" included: an empty list and an
   omitted Reporting-UA stay what they are on 2.3. */
static void test_info_values(void **state ATTR_UNUSED)
{
	static const char *const settings[] = {
		"readreceipt_mode", "internal",
		"readreceipt_domains", "",
		"readreceipt_reporting_ua", "",
		"readreceipt_exclude", "",
		"readreceipt_max_per_hour", "7",
		NULL
	};
	struct readreceipt_settings *set;
	struct test_settings ts;
	const char *error;
	pool_t pool;

	pool = pool_alloconly_create("test settings info", 1024);
	test_settings_get(&ts, settings, NULL, 0);
	assert_string_equal(readreceipt_raw_setting(ts.raw,
		"readreceipt_domains"), "");
	assert_null(readreceipt_raw_setting(ts.raw, "readreceipt_unknown"));
	assert_int_equal(readreceipt_settings_parse(pool, test_raw_lookup,
		(void *)ts.raw, TEST_USERNAME, my_hostname, &set, &error), 0);
	assert_int_equal(set->mode, READRECEIPT_MODE_INTERNAL);
	assert_int_equal(array_count(&set->domains), 0);
	assert_int_equal(array_count(&set->exclude), 0);
	assert_string_equal(set->reporting_ua, "");
	assert_int_equal(set->max_per_hour, 7);
	test_settings_free(&ts);

	/* the marker set explicitly is the default */
	test_settings_get(&ts, (const char *const[]){
		"readreceipt_domains", READRECEIPT_DOMAINS_DEFAULT_MARKER,
		NULL }, NULL, 0);
	assert_null(readreceipt_raw_setting(ts.raw, "readreceipt_domains"));
	test_settings_free(&ts);

	/* unexpanded: what is set is not the default */
	test_settings_get(&ts, settings, NULL, SETTINGS_GET_FLAG_NO_EXPAND);
	assert_false(readreceipt_raw_setting_is_default(ts.raw,
		"readreceipt_mode"));
	assert_false(readreceipt_raw_setting_is_default(ts.raw,
		"readreceipt_reporting_ua"));
	assert_true(readreceipt_raw_setting_is_default(ts.raw,
		"readreceipt_prompt"));
	test_settings_free(&ts);
	pool_unref(&pool);
}

/* A userdb field of a setting's name overrides it for the user; a bad
   value reaches the module's parser, which disables receipts for that user
   only, instead of failing settings_get() (the user's login). */
static void test_info_userdb(void **state ATTR_UNUSED)
{
	static const char *const settings[] = {
		"readreceipt_mode", "internal", NULL
	};
	struct readreceipt_settings *set;
	struct test_settings ts;
	const char *error;
	pool_t pool;

	pool = pool_alloconly_create("test settings info", 1024);
	test_settings_get(&ts, settings, (const char *const[]){
		"readreceipt_mode", "any", NULL }, 0);
	assert_int_equal(readreceipt_settings_parse(pool, test_raw_lookup,
		(void *)ts.raw, TEST_USERNAME, my_hostname, &set, &error), 0);
	assert_int_equal(set->mode, READRECEIPT_MODE_ANY);
	test_settings_free(&ts);

	test_settings_get(&ts, settings, (const char *const[]){
		"readreceipt_mode", "sometimes", NULL }, 0);
	assert_int_equal(readreceipt_settings_parse(pool, test_raw_lookup,
		(void *)ts.raw, TEST_USERNAME, my_hostname, &set, &error), -1);
	assert_string_equal(error, "readreceipt_mode: unknown value "
			    "\"sometimes\" (expected disabled, internal or "
			    "any)");
	assert_int_equal(set->mode, READRECEIPT_MODE_DISABLED);
	test_settings_free(&ts);

	/* "" hands the user back to the default, as on 2.3 */
	test_settings_get(&ts, settings, (const char *const[]){
		"readreceipt_mode", "", NULL }, 0);
	assert_int_equal(readreceipt_settings_parse(pool, test_raw_lookup,
		(void *)ts.raw, TEST_USERNAME, my_hostname, &set, &error), 0);
	assert_int_equal(set->mode, READRECEIPT_MODE_DISABLED);
	test_settings_free(&ts);
	pool_unref(&pool);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_info_names),
		cmocka_unit_test(test_info_defaults),
		cmocka_unit_test(test_info_values),
		cmocka_unit_test(test_info_userdb),
	};

	return TEST_RUN("readreceipt-settings-info", tests);
}
