#ifndef DOVEADM_READRECEIPT_CMDS_H
#define DOVEADM_READRECEIPT_CMDS_H

/* doveadm readreceipt policy|list|send|ignore|flush (SPEC §8). */
void doveadm_readreceipt_cmds_register(void);

#endif
