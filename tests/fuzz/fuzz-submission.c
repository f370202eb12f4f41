/* Copyright (c) dovecot-readreceipt authors */

/* libFuzzer target: what the submission module reads from an outgoing
   message (submission_readreceipt_header_read()) and the message it
   relays without Disposition-Notification-To
   (submission_readreceipt_strip()).

   The input is the whole message. It is read twice: from memory, and from
   a file through a 128-byte buffer, which splits long header lines into
   pieces the way a large message arrives; both must give the same facts
   where Dovecot's header parser can see every field (see
   fuzz_names_fit()). The stripped message must be the input without
   exactly the recorded fields, the same when read again after a seek to
   its start, and it must not ask for a receipt any more. */

#define _GNU_SOURCE /* memfd_create() */

#include "fuzz-common.h"
#include "array.h"
#include "str.h"
#include "istream.h"
#include "submission-readreceipt-header.h"

#include <sys/mman.h>
#include <unistd.h>

#define FUZZ_SMALL_BUFFER 128

int LLVMFuzzerInitialize(int *argc ATTR_UNUSED, char ***argv ATTR_UNUSED)
{
	fuzz_init();
	return 0;
}

/* A seekable file stream of data with a small buffer. */
static struct istream *
fuzz_small_buffer_stream(const uint8_t *data, size_t size)
{
	size_t pos = 0;
	ssize_t ret;
	int fd;

	fd = memfd_create("fuzz-submission", MFD_CLOEXEC);
	if (fd == -1)
		i_fatal("memfd_create() failed: %m");
	while (pos < size) {
		ret = write(fd, data + pos, size - pos);
		if (ret <= 0)
			i_fatal("write(memfd) failed: %m");
		pos += ret;
	}
	return i_stream_create_fd_autoclose(&fd, FUZZ_SMALL_BUFFER);
}

/* Dovecot's header parser skips a field whose name (everything before
   the ':', or the whole line when it has none) does not fit into the
   stream's buffer: it never knows its name. Through a small buffer such a
   field is invisible, from memory it is not. Returns TRUE if the name of
   every field of the header fits well in buffer_size, so that both must
   agree. */
static bool
fuzz_names_fit(const uint8_t *data, size_t size, size_t buffer_size)
{
	const uint8_t *start = data, *end = data + size, *line_end, *colon;
	size_t name_len;

	while (data < end) {
		line_end = memchr(data, '\n', end - data);
		if (line_end == NULL)
			line_end = end;
		if (data == line_end ||
		    (data[0] == '\r' && data + 1 == line_end)) {
			/* the end of the header */
			return TRUE;
		}
		/* a blank at the start of the message starts no
		   continuation: there is nothing to continue */
		if (data == start || (data[0] != ' ' && data[0] != '\t')) {
			colon = memchr(data, ':', line_end - data);
			name_len = (colon != NULL ? colon : line_end) - data;
			/* where exactly the limit lies depends on how the
			   reads fill the buffer; half of it is safe */
			if (name_len >= buffer_size / 2)
				return FALSE;
		}
		if (line_end == end)
			break;
		data = line_end + 1;
	}
	return TRUE;
}

static void fuzz_read_all(struct istream *input, string_t *out)
{
	const unsigned char *data;
	size_t size;

	while (i_stream_read_more(input, &data, &size) > 0) {
		str_append_data(out, data, size);
		i_stream_skip(input, size);
	}
	i_assert(input->stream_errno == 0);
	i_assert(input->eof);
}

static void
fuzz_header_read(struct istream *input, size_t size,
		 struct submission_readreceipt_header *hdr_r)
{
	const struct submission_readreceipt_range *range;
	const char *error;
	uoff_t offset = 0;

	/* the whole message is there: reading cannot fail */
	if (submission_readreceipt_header_read(input, pool_datastack_create(),
					       hdr_r, &error) < 0)
		i_panic("submission_readreceipt_header_read() failed: %s",
			error);

	i_assert(array_count(&hdr_r->dnt_fields) <=
		 SUBMISSION_READRECEIPT_DNT_MAX);
	i_assert(!hdr_r->dnt_overflow ||
		 array_count(&hdr_r->dnt_fields) ==
		 SUBMISSION_READRECEIPT_DNT_MAX);
	/* in order, not overlapping, within the message */
	array_foreach(&hdr_r->dnt_fields, range) {
		i_assert(range->start >= offset);
		i_assert(range->end > range->start);
		i_assert(range->end <= size);
		offset = range->end;
	}
}

static void
fuzz_header_same(const struct submission_readreceipt_header *hdr1,
		 const struct submission_readreceipt_header *hdr2)
{
	const struct submission_readreceipt_range *r1, *r2;
	unsigned int i, count1, count2;

	i_assert(hdr1->is_receipt == hdr2->is_receipt);
	i_assert(null_strcmp(hdr1->message_id, hdr2->message_id) == 0);
	i_assert(hdr1->dnt_overflow == hdr2->dnt_overflow);
	r1 = array_get(&hdr1->dnt_fields, &count1);
	r2 = array_get(&hdr2->dnt_fields, &count2);
	i_assert(count1 == count2);
	for (i = 0; i < count1; i++) {
		i_assert(r1[i].start == r2[i].start);
		i_assert(r1[i].end == r2[i].end);
	}
}

/* Strip input, read the result twice, and compare it with what it must
   be. Returns the stripped message. */
static const string_t *
fuzz_strip(struct istream *input, const uint8_t *data, size_t size,
	   const struct submission_readreceipt_header *hdr)
{
	const struct submission_readreceipt_range *range;
	struct istream *stripped;
	string_t *expected, *output, *again;
	uoff_t removed, offset = 0;

	expected = t_str_new(size + 1);
	array_foreach(&hdr->dnt_fields, range) {
		str_append_data(expected, data + offset,
				range->start - offset);
		offset = range->end;
	}
	str_append_data(expected, data + offset, size - offset);

	stripped = submission_readreceipt_strip(input, hdr, &removed);
	output = t_str_new(size + 1);
	again = t_str_new(size + 1);
	fuzz_read_all(stripped, output);
	/* the relay seeks back to the start before it sends */
	i_stream_seek(stripped, 0);
	fuzz_read_all(stripped, again);
	i_stream_unref(&stripped);

	i_assert(removed == size - str_len(expected));
	i_assert(str_equals(output, expected));
	i_assert(str_equals(again, expected));
	return output;
}

static void fuzz_submission_input(const uint8_t *data, size_t size)
{
	struct submission_readreceipt_header hdr, hdr_small, hdr_stripped;
	struct istream *input, *input_small, *input_stripped;
	const string_t *stripped;
	char *value;

	input = i_stream_create_from_data(data, size);
	fuzz_header_read(input, size, &hdr);
	input_small = fuzz_small_buffer_stream(data, size);
	fuzz_header_read(input_small, size, &hdr_small);
	if (fuzz_names_fit(data, size, FUZZ_SMALL_BUFFER))
		fuzz_header_same(&hdr, &hdr_small);

	if (!hdr.dnt_overflow) {
		stripped = fuzz_strip(input, data, size, &hdr);
		(void)fuzz_strip(input_small, data, size, &hdr_small);

		/* what is relayed asks for no receipt any more */
		input_stripped = i_stream_create_from_data(str_data(stripped),
							   str_len(stripped));
		fuzz_header_read(input_stripped, str_len(stripped),
				 &hdr_stripped);
		i_assert(array_count(&hdr_stripped.dnt_fields) == 0);
		i_assert(hdr_stripped.is_receipt == hdr.is_receipt);
		i_assert(null_strcmp(hdr_stripped.message_id,
				     hdr.message_id) == 0);
		i_stream_unref(&input_stripped);
	}
	i_stream_unref(&input_small);
	i_stream_unref(&input);

	/* the Content-Type check on its own, with the input as a value */
	value = fuzz_strndup(data, size);
	(void)submission_readreceipt_content_type_is_receipt(value);
	free(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	T_BEGIN {
		fuzz_submission_input(data, size);
	} T_END;
	return 0;
}
