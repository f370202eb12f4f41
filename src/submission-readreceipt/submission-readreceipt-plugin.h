#ifndef SUBMISSION_READRECEIPT_PLUGIN_H
#define SUBMISSION_READRECEIPT_PLUGIN_H

struct module;

extern const char *submission_readreceipt_plugin_version;
extern const char *submission_readreceipt_plugin_dependencies[];
extern const char submission_readreceipt_plugin_binary_dependency[];

void submission_readreceipt_plugin_init(struct module *module);
void submission_readreceipt_plugin_deinit(void);

#endif
