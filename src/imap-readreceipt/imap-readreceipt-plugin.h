#ifndef IMAP_READRECEIPT_PLUGIN_H
#define IMAP_READRECEIPT_PLUGIN_H

struct module;

extern const char *imap_readreceipt_plugin_version;
extern const char *imap_readreceipt_plugin_dependencies[];
extern const char imap_readreceipt_plugin_binary_dependency[];

void imap_readreceipt_plugin_init(struct module *module);
void imap_readreceipt_plugin_deinit(void);

#endif
