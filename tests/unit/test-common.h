#ifndef TEST_COMMON_H
#define TEST_COMMON_H

/* Dovecot's lib and cmocka in one unit test program. */

#include "lib.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

/* Every test runs inside a data stack frame, so t_ allocations are freed
   between cases. */
static inline int test_common_setup(void **state ATTR_UNUSED)
{
	return 0;
}

static inline int test_common_main(const char *name,
				   const struct CMUnitTest *tests,
				   size_t count)
{
	int ret;

	lib_init();
	ret = _cmocka_run_group_tests(name, tests, count, NULL, NULL);
	lib_deinit();
	return ret;
}

#define TEST_RUN(name, tests) \
	test_common_main(name, tests, sizeof(tests) / sizeof((tests)[0]))

#endif
