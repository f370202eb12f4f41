/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

/* Prints the README's table of settings from READRECEIPT_SETTINGS_TABLE
   (with --names: only the names, one per line), so that the documentation
   lists exactly the settings the code has, in its order, with its
   defaults. tests/unit/test-settings-doc.sh compares. Plain C: the table's
   documentation columns need nothing of Dovecot's. */

#include <stdio.h>
#include <string.h>

#include "readreceipt-settings-table.h"

/* a default that is a value is shown as written in a configuration */
static void print_default(const char *doc_default, const char *default_value)
{
	if (doc_default != NULL)
		fputs(doc_default, stdout);
	else
		printf("`%s`", default_value);
}

#define SETTINGS_DOC_ROW(name, field, type, values, min, max, \
			 default_value, doc_values, doc_default, doc_meaning) \
	printf("| `readreceipt_" #name "` | %s | ", doc_values); \
	print_default(doc_default, default_value); \
	printf(" | %s |\n", doc_meaning);

#define SETTINGS_DOC_NAME(name, ...) puts("readreceipt_" #name);

int main(int argc, char *argv[])
{
	if (argc == 2 && strcmp(argv[1], "--names") == 0) {
		READRECEIPT_SETTINGS_TABLE(SETTINGS_DOC_NAME)
		return 0;
	}
	if (argc != 1) {
		fprintf(stderr, "usage: %s [--names]\n", argv[0]);
		return 2;
	}
	puts("| setting | values | default | meaning |");
	puts("|---|---|---|---|");
	READRECEIPT_SETTINGS_TABLE(SETTINGS_DOC_ROW)
	return 0;
}
