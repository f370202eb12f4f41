#ifndef DOVEADM_READRECEIPT_PLUGIN_H
#define DOVEADM_READRECEIPT_PLUGIN_H

struct module;

/* doveadm loads modules/doveadm/lib30_doveadm_readreceipt_plugin.so and
   looks these up under the name the file gives: doveadm_readreceipt. */
extern const char *doveadm_readreceipt_plugin_version;

void doveadm_readreceipt_plugin_init(struct module *module);
void doveadm_readreceipt_plugin_deinit(void);

#endif
