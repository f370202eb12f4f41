#ifndef SIEVE_READRECEIPT_PLUGIN_H
#define SIEVE_READRECEIPT_PLUGIN_H

/* The Pigeonhole plugin "sieve_readreceipt": registers the extension
   vnd.readreceipt with each Sieve instance that lists it in
   sieve_plugins. */

struct sieve_instance;

extern const char *sieve_readreceipt_plugin_version;

/* Pigeonhole 2.4 takes the load function's result: 0, or -1 when the
   extension could not be registered. */
#if DOVECOT_PREREQ(2, 4, 0)
int sieve_readreceipt_plugin_load(struct sieve_instance *svinst,
				  void **context);
#else
void sieve_readreceipt_plugin_load(struct sieve_instance *svinst,
				   void **context);
#endif
void sieve_readreceipt_plugin_unload(struct sieve_instance *svinst,
				     void *context);

void sieve_readreceipt_plugin_init(void);
void sieve_readreceipt_plugin_deinit(void);

#endif
