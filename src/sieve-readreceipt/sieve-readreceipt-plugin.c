/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "sieve-common.h"
#include "sieve-extensions.h"
#include "ext-readreceipt-common.h"
#include "sieve-readreceipt-plugin.h"

/* Pigeonhole checks this against its own ABI before loading the module. */
const char *sieve_readreceipt_plugin_version = PIGEONHOLE_ABI_VERSION;

/* Registered, not enabled: the administrator enables it with
   sieve_extensions or sieve_global_extensions, as any vnd.* extension. */
#if DOVECOT_PREREQ(2, 4, 0)
int sieve_readreceipt_plugin_load(struct sieve_instance *svinst,
				  void **context)
{
	const struct sieve_extension *ext;

	/* Pigeonhole 2.4 reports a failed registration */
	if (sieve_extension_register(svinst, &readreceipt_extension, FALSE,
				     &ext) < 0)
		return -1;
	*context = (void *)ext;
	return 0;
}
#else
void sieve_readreceipt_plugin_load(struct sieve_instance *svinst,
				   void **context)
{
	const struct sieve_extension *ext;

	ext = sieve_extension_register(svinst, &readreceipt_extension, FALSE);
	*context = (void *)ext;
}
#endif

void sieve_readreceipt_plugin_unload(struct sieve_instance *svinst ATTR_UNUSED,
				     void *context)
{
	const struct sieve_extension *ext = context;

	sieve_extension_unregister(ext);
}

void sieve_readreceipt_plugin_init(void)
{
}

void sieve_readreceipt_plugin_deinit(void)
{
}
