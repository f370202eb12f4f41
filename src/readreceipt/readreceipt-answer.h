#ifndef READRECEIPT_ANSWER_H
#define READRECEIPT_ANSWER_H

/* Answers to pending entries arrive as SETMETADATA (or any attribute
   change) on /private/vendor/vendor.readreceipt/pending/<uid>. The
   attribute is registered process-wide; values are validated before the
   transaction commits and acted on after. */

void readreceipt_answer_init(void);
void readreceipt_answer_deinit(void);

#endif
