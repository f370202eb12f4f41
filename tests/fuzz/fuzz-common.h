#ifndef FUZZ_COMMON_H
#define FUZZ_COMMON_H

/* What every libFuzzer target here shares: Dovecot's lib, set up once per
   process, and the input as a C string. Each target handles one input in
   a data stack frame of its own, so that nothing it allocates outlives
   the input. */

#include "lib.h"

#include <stdint.h>
#include <stdlib.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static inline void fuzz_init(void)
{
	lib_init();
}

/* data as a NUL-terminated string (it ends at its first NUL). It is a heap
   block of its own, of exactly that size, so that AddressSanitizer sees a
   read past the end: libdovecot is not instrumented, and the data stack
   and pools hand out pieces of larger blocks. Free it with free(). */
static inline char *fuzz_strndup(const void *data, size_t size)
{
	char *str = malloc(size + 1);

	if (str == NULL)
		abort();
	memcpy(str, data, size);
	str[size] = '\0';
	return str;
}

#endif
