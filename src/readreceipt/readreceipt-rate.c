/* Copyright (c) dovecot-readreceipt authors, see the included COPYING file */

#include "lib.h"
#include "array.h"
#include "str.h"
#include "mail-user.h"
#include "readreceipt-outbox.h"
#include "readreceipt-rate.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
#include <sys/stat.h>

#define READRECEIPT_RATE_WINDOW_SECS 3600
/* never read more than this of the counter file: its end, where the
   newest entries are */
#define READRECEIPT_RATE_FILE_MAX (256 * 1024)
/* lines beyond 2 x readreceipt_max_per_hour before the file is compacted:
   most receipts append a line, few rewrite the file */
#define READRECEIPT_RATE_COMPACT_SLACK 16
/* a compacted file fills at most half of what is read (a line is a
   10-digit time and a newline), so that it is not rewritten again at the
   next receipt; a limit above this many is counted up to what is read */
#define READRECEIPT_RATE_COMPACT_MAX_LINES (READRECEIPT_RATE_FILE_MAX / 2 / 11)
/* A line that counts is a send time of the past hour: ten digits (from
   2001 to 2286) and a newline. A file of N bytes counts at most N / 11
   sends, so one that small is not read at all. */
#define READRECEIPT_RATE_LINE_SIZE 11

struct readreceipt_rate_file {
	/* the send times of the hour before now, oldest first */
	ARRAY_TYPE(uint64_t) times;
	/* lines read, in the window or not */
	unsigned int lines;
	/* the file is larger than what was read */
	bool truncated;
};

/* Read the end of the counter file. Entries are appended in the order
   they were sent, so the end holds the newest. */
static void
readreceipt_rate_read(const char *path, time_t now,
		      struct readreceipt_rate_file *file_r)
{
	const char *const *lines;
	struct stat st;
	size_t size;
	off_t offset;
	ssize_t ret;
	uint64_t t;
	char *buf;
	int fd;

	i_zero(file_r);
	t_array_init(&file_r->times, 16);
	fd = open(path, O_RDONLY);
	if (fd == -1)
		return;
	if (fstat(fd, &st) < 0 || st.st_size <= 0) {
		i_close_fd(&fd);
		return;
	}
	size = I_MIN((size_t)st.st_size, READRECEIPT_RATE_FILE_MAX);
	offset = st.st_size - (off_t)size;
	buf = t_malloc_no0(size + 1);
	ret = pread(fd, buf, size, offset);
	i_close_fd(&fd);
	if (ret <= 0)
		return;
	buf[ret] = '\0';
	lines = t_strsplit(buf, "\n");
	if (offset > 0 && *lines != NULL) {
		/* the first line was cut by the bound */
		file_r->truncated = TRUE;
		lines++;
	}
	for (; *lines != NULL; lines++) {
		if (**lines == '\0')
			continue;
		file_r->lines++;
		/* a damaged line (a write cut short, joined with the next
		   one) is not a time in the window: skipped */
		if (str_to_uint64(*lines, &t) == 0 &&
		    t + READRECEIPT_RATE_WINDOW_SECS > (uint64_t)now &&
		    t <= (uint64_t)now)
			array_push_back(&file_r->times, &t);
	}
}

static const char *readreceipt_rate_path(struct mail_user *user)
{
	const char *dir, *error;

	if (readreceipt_outbox_dir(user, &dir, &error) < 0)
		return NULL;
	return t_strconcat(dir, "/", READRECEIPT_RATE_FNAME, NULL);
}

/* The size of the file at path, 0 when it does not exist (or cannot be
   looked at: reading it would fail the same way). */
static off_t readreceipt_rate_file_size(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? 0 : st.st_size;
}

/* TRUE when a file of lines lines (count more about to be appended) is
   to be compacted. */
static bool
readreceipt_rate_compact_due(uint64_t lines, unsigned int count,
			     unsigned int max_per_hour)
{
	return lines + count > 2 * (uint64_t)max_per_hour +
		READRECEIPT_RATE_COMPACT_SLACK;
}

int readreceipt_rate_check(struct mail_user *user, unsigned int max_per_hour,
			   time_t now)
{
	struct readreceipt_rate_file file;
	const char *path;

	if (max_per_hour == 0 || (path = readreceipt_rate_path(user)) == NULL)
		return 1;
	if ((uint64_t)readreceipt_rate_file_size(path) /
	    READRECEIPT_RATE_LINE_SIZE < max_per_hour)
		return 1;
	readreceipt_rate_read(path, now, &file);
	return array_count(&file.times) < max_per_hour ? 1 : 0;
}

/* Rewrite the file with the newest max_per_hour send times of the window
   (the one just counted is among them). */
static int
readreceipt_rate_compact(const char *path, unsigned int max_per_hour,
			 const struct readreceipt_rate_file *file,
			 const char **error_r)
{
	unsigned int i, count, first, keep;
	string_t *str;

	keep = I_MIN(max_per_hour, READRECEIPT_RATE_COMPACT_MAX_LINES);
	count = array_count(&file->times);
	first = count > keep ? count - keep : 0;
	str = t_str_new((count - first) * 12 + 1);
	for (i = first; i < count; i++)
		str_printfa(str, "%llu\n", (unsigned long long)
			    *array_idx(&file->times, i));
	return readreceipt_outbox_write_file(path, str_data(str), str_len(str),
					     error_r);
}

int readreceipt_rate_add(struct mail_user *user, unsigned int max_per_hour,
			 time_t now, unsigned int count, const char **error_r)
{
	struct readreceipt_rate_file file;
	const char *path;
	string_t *lines;
	uint64_t t = now;
	unsigned int i;
	off_t size;

	if (max_per_hour == 0 || count == 0 ||
	    (path = readreceipt_rate_path(user)) == NULL)
		return 0;
	size = readreceipt_rate_file_size(path);
	if (size > READRECEIPT_RATE_FILE_MAX ||
	    readreceipt_rate_compact_due((uint64_t)size /
					 READRECEIPT_RATE_LINE_SIZE, count,
					 max_per_hour)) {
		/* a compaction may be due: count the lines */
		readreceipt_rate_read(path, now, &file);
		if (file.truncated ||
		    readreceipt_rate_compact_due(file.lines, count,
						 max_per_hour)) {
			for (i = 0; i < count; i++)
				array_push_back(&file.times, &t);
			return readreceipt_rate_compact(path, max_per_hour,
							&file, error_r);
		}
	}
	/* one append for all of them */
	lines = t_str_new(count * READRECEIPT_RATE_LINE_SIZE + 1);
	for (i = 0; i < count; i++)
		str_printfa(lines, "%llu\n", (unsigned long long)t);
	return readreceipt_outbox_append_file(path, str_data(lines),
					      str_len(lines), error_r);
}
