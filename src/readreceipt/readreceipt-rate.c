/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "write-full.h"
#include "mail-user.h"
#include "readreceipt-outbox.h"
#include "readreceipt-rate.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>

#define READRECEIPT_RATE_WINDOW_SECS 3600
/* never read more than this of the counter file */
#define READRECEIPT_RATE_FILE_MAX (256 * 1024)

/* The send times of the hour before now. */
static void
readreceipt_rate_read(const char *path, time_t now,
		      ARRAY_TYPE(uint64_t) *times)
{
	const char *const *lines;
	struct stat st;
	size_t size;
	ssize_t ret;
	uint64_t t;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd == -1)
		return;
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		i_close_fd(&fd);
		return;
	}
	size = I_MIN((size_t)st.st_size, READRECEIPT_RATE_FILE_MAX);
	buf = t_malloc_no0(size + 1);
	ret = read(fd, buf, size);
	i_close_fd(&fd);
	if (ret <= 0)
		return;
	buf[ret] = '\0';
	for (lines = t_strsplit(buf, "\n"); *lines != NULL; lines++) {
		if (str_to_uint64(*lines, &t) == 0 &&
		    t + READRECEIPT_RATE_WINDOW_SECS > (uint64_t)now &&
		    t <= (uint64_t)now)
			array_push_back(times, &t);
	}
}

static const char *readreceipt_rate_path(struct mail_user *user)
{
	const char *dir, *error;

	if (readreceipt_outbox_dir(user, &dir, &error) < 0)
		return NULL;
	return t_strconcat(dir, "/", READRECEIPT_RATE_FNAME, NULL);
}

int readreceipt_rate_check(struct mail_user *user, unsigned int max_per_hour,
			   time_t now)
{
	ARRAY_TYPE(uint64_t) times;
	const char *path;

	if (max_per_hour == 0 || (path = readreceipt_rate_path(user)) == NULL)
		return 1;
	t_array_init(&times, 16);
	readreceipt_rate_read(path, now, &times);
	return array_count(&times) < max_per_hour ? 1 : 0;
}

int readreceipt_rate_add(struct mail_user *user, unsigned int max_per_hour,
			 time_t now, const char **error_r)
{
	ARRAY_TYPE(uint64_t) times;
	const char *path;
	string_t *str;
	uint64_t t;
	unsigned int i, count, first;

	if (max_per_hour == 0 || (path = readreceipt_rate_path(user)) == NULL)
		return 0;
	t_array_init(&times, 16);
	readreceipt_rate_read(path, now, &times);
	t = now;
	array_push_back(&times, &t);

	/* keep only as many entries as the limit needs */
	count = array_count(&times);
	first = count > max_per_hour ? count - max_per_hour : 0;
	str = t_str_new(count * 12);
	for (i = first; i < count; i++)
		str_printfa(str, "%llu\n", (unsigned long long)
			    *array_idx(&times, i));

	return readreceipt_outbox_write_file(path, str_data(str), str_len(str),
					     error_r);
}
