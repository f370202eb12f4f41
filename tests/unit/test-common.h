#ifndef TEST_COMMON_H
#define TEST_COMMON_H

/* Dovecot's lib and cmocka in one unit test program. */

#include "lib.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

static inline int test_common_main(const char *name,
				   const struct CMUnitTest *tests,
				   size_t count)
{
	int ret;

	lib_init();
	ret = _cmocka_run_group_tests(name, tests, count, NULL, NULL);
	/* a failed assertion jumps out of the test's data stack frames, which
	   lib_deinit() would then report as a leak */
	if (ret == 0)
		lib_deinit();
	return ret;
}

#define TEST_RUN(name, tests) \
	test_common_main(name, tests, sizeof(tests) / sizeof((tests)[0]))

#endif
