#ifndef READRECEIPT_PLUGIN_H
#define READRECEIPT_PLUGIN_H

struct module;

extern const char *readreceipt_plugin_version;

void readreceipt_plugin_init(struct module *module);
void readreceipt_plugin_deinit(void);

#endif
