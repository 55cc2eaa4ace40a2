/*-------------------------------------------------------------------------
 *
 * decode.c
 *		upflow.decode_file: an uploaded file's bytes to text, with the
 *		encoding it was read in.
 *
 * Finance teams' files come from Excel and billing tools in UTF-8 (with
 * or without a byte order mark), UTF-16 ("Unicode text"), Windows-1252 or,
 * from Excel for Mac, Mac OS Roman.  With encoding "auto": a UTF-8 or
 * UTF-16 byte order mark decides; else valid UTF-8 is UTF-8; else the file
 * is read as Mac Roman when it looks like it (looks_like_macroman), as
 * Windows-1252 otherwise.  Any PostgreSQL encoding name can be given
 * instead, plus UTF-16, UTF-16LE, UTF-16BE and MACROMAN, which PostgreSQL
 * does not know.
 *
 * Bytes that are invalid in the encoding, and NUL bytes, are an ERROR
 * naming the line and the byte: they are never stored, and nothing is
 * replaced silently.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "funcapi.h"
#include "lib/stringinfo.h"
#include "mb/pg_wchar.h"
#include "utils/builtins.h"

#include "upflow_import.h"

#define ENC_UTF16LE		(-2)
#define ENC_UTF16BE		(-3)
#define ENC_MACROMAN	(-4)

/*
 * Mac OS Roman, bytes 0x80 to 0xFF (Apple's ROMAN.TXT, with 0xDB the euro
 * sign): what Excel for Mac writes as "CSV (Macintosh)".  PostgreSQL has
 * no such encoding, so it is decoded here.  Bytes below 0x80 are ASCII.
 */
static const uint16 macroman[128] = {
	0x00C4, 0x00C5, 0x00C7, 0x00C9, 0x00D1, 0x00D6, 0x00DC, 0x00E1,
	0x00E0, 0x00E2, 0x00E4, 0x00E3, 0x00E5, 0x00E7, 0x00E9, 0x00E8,
	0x00EA, 0x00EB, 0x00ED, 0x00EC, 0x00EE, 0x00EF, 0x00F1, 0x00F3,
	0x00F2, 0x00F4, 0x00F6, 0x00F5, 0x00FA, 0x00F9, 0x00FB, 0x00FC,
	0x2020, 0x00B0, 0x00A2, 0x00A3, 0x00A7, 0x2022, 0x00B6, 0x00DF,
	0x00AE, 0x00A9, 0x2122, 0x00B4, 0x00A8, 0x2260, 0x00C6, 0x00D8,
	0x221E, 0x00B1, 0x2264, 0x2265, 0x00A5, 0x00B5, 0x2202, 0x2211,
	0x220F, 0x03C0, 0x222B, 0x00AA, 0x00BA, 0x03A9, 0x00E6, 0x00F8,
	0x00BF, 0x00A1, 0x00AC, 0x221A, 0x0192, 0x2248, 0x2206, 0x00AB,
	0x00BB, 0x2026, 0x00A0, 0x00C0, 0x00C3, 0x00D5, 0x0152, 0x0153,
	0x2013, 0x2014, 0x201C, 0x201D, 0x2018, 0x2019, 0x00F7, 0x25CA,
	0x00FF, 0x0178, 0x2044, 0x20AC, 0x2039, 0x203A, 0xFB01, 0xFB02,
	0x2021, 0x00B7, 0x201A, 0x201E, 0x2030, 0x00C2, 0x00CA, 0x00C1,
	0x00CB, 0x00C8, 0x00CD, 0x00CE, 0x00CF, 0x00CC, 0x00D3, 0x00D4,
	0xF8FF, 0x00D2, 0x00DA, 0x00DB, 0x00D9, 0x0131, 0x02C6, 0x02DC,
	0x00AF, 0x02D8, 0x02D9, 0x02DA, 0x00B8, 0x02DD, 0x02DB, 0x02C7
};

/* Physical line (1-based) of a byte offset, for 8-bit-safe encodings. */
static long
line_of_offset(const unsigned char *data, size_t offset)
{
	long		line = 1;

	for (size_t i = 0; i < offset; i++)
	{
		if (data[i] == '\n')
			line++;
		else if (data[i] == '\r' && (i + 1 >= offset || data[i + 1] != '\n'))
			line++;
	}
	return line;
}

static void
report_invalid(const char *encoding, const unsigned char *data, size_t len, size_t offset)
{
	StringInfoData bytes;

	initStringInfo(&bytes);
	for (size_t i = offset; i < len && i < offset + 4; i++)
		appendStringInfo(&bytes, "%s0x%02x", i > offset ? " " : "", data[i]);

	if (data[offset] == '\0')
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("the file contains a NUL byte at line %ld", line_of_offset(data, offset)),
				 errdetail("Byte %zu of the file is 0x00; a CSV text file never contains one.", offset + 1),
				 errhint("The file may be a spreadsheet (.xlsx) or a UTF-16 file without byte order mark: save it as CSV, or pass {\"encoding\": \"UTF-16LE\"}.")));

	ereport(ERROR,
			(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
			 errmsg("invalid byte sequence for encoding \"%s\" at line %ld",
					encoding, line_of_offset(data, offset)),
			 errdetail("Byte %zu of the file starts the invalid sequence %s.", offset + 1, bytes.data),
			 errhint("Save the file as CSV UTF-8, or pass the file's encoding: the option {\"encoding\": \"WIN1252\"} (or MACROMAN, LATIN1...), or upflow-import --encoding=WIN1252.")));
}

/* UTF-16 to UTF-8, by hand: PostgreSQL has no UTF-16 encoding. */
static text *
decode_utf16(const unsigned char *data, size_t len, size_t skipped, bool big_endian,
			 const char *name)
{
	StringInfoData buf;
	long		line = 1;
	bool		after_cr = false;

	if (len % 2 != 0)
		ereport(ERROR,
				(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
				 errmsg("invalid byte sequence for encoding \"%s\": the file has an odd number of bytes", name),
				 errdetail("A UTF-16 file has two bytes per code unit; the last byte is alone."),
				 errhint("Check that the file is complete, or pass its real encoding in the options.")));

	initStringInfo(&buf);
	enlargeStringInfo(&buf, (int) Min(len * 3 / 2 + 1, (size_t) MaxAllocSize - 1));
	for (size_t i = 0; i < len; i += 2)
	{
		pg_wchar	c = big_endian ? (data[i] << 8 | data[i + 1]) : (data[i + 1] << 8 | data[i]);
		unsigned char utf8[4];

		if (c >= 0xD800 && c <= 0xDBFF)
		{
			pg_wchar	low = 0;

			if (i + 3 < len)
				low = big_endian ? (data[i + 2] << 8 | data[i + 3]) : (data[i + 3] << 8 | data[i + 2]);
			if (low < 0xDC00 || low > 0xDFFF)
				ereport(ERROR,
						(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
						 errmsg("invalid byte sequence for encoding \"%s\" at line %ld", name, line),
						 errdetail("Byte %zu of the file starts a surrogate pair that is not complete.", skipped + i + 1),
						 errhint("Save the file again from its spreadsheet, as CSV UTF-8.")));
			c = 0x10000 + ((c - 0xD800) << 10) + (low - 0xDC00);
			i += 2;
		}
		else if (c >= 0xDC00 && c <= 0xDFFF)
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("invalid byte sequence for encoding \"%s\" at line %ld", name, line),
					 errdetail("Byte %zu of the file is the second half of a surrogate pair with no first half.", skipped + i + 1),
					 errhint("Save the file again from its spreadsheet, as CSV UTF-8.")));
		else if (c == 0)
			ereport(ERROR,
					(errcode(ERRCODE_CHARACTER_NOT_IN_REPERTOIRE),
					 errmsg("the file contains a NUL character at line %ld", line),
					 errdetail("Bytes %zu and %zu of the file encode U+0000.", skipped + i + 1, skipped + i + 2),
					 errhint("Check the file's encoding: pass {\"encoding\": \"UTF-16BE\"} or \"UTF-16LE\" to say which.")));

		if (c == '\n' && !after_cr)
			line++;
		else if (c == '\r')
			line++;
		after_cr = (c == '\r');

		unicode_to_utf8(c, utf8);
		appendBinaryStringInfo(&buf, (char *) utf8, pg_utf_mblen(utf8));
	}
	return cstring_to_text_with_len(buf.data, buf.len);
}

/* Mac OS Roman to UTF-8: every byte is a character (NUL aside). */
static text *
decode_macroman(const unsigned char *data, size_t len)
{
	StringInfoData buf;

	initStringInfo(&buf);
	enlargeStringInfo(&buf, (int) Min(len * 3 + 1, (size_t) MaxAllocSize - 1));
	for (size_t i = 0; i < len; i++)
	{
		unsigned char utf8[4];

		if (data[i] == '\0')
			report_invalid("MACROMAN", data, len, i);
		if (data[i] < 0x80)
		{
			appendStringInfoChar(&buf, (char) data[i]);
			continue;
		}
		unicode_to_utf8(macroman[data[i] - 0x80], utf8);
		appendBinaryStringInfo(&buf, (char *) utf8, pg_utf_mblen(utf8));
	}
	return cstring_to_text_with_len(buf.data, buf.len);
}

/*
 * Whether 8-bit text that is not UTF-8 reads better as Mac OS Roman than
 * as Windows-1252.  It is Mac Roman when it has a byte Windows-1252 does
 * not define (0x81 0x8D 0x8F 0x90 0x9D: Å ç è ê ù in Mac Roman), or when
 * more of its high bytes fall in 0x80-0x9F (Mac Roman's accented small
 * letters, Windows-1252's rare punctuation) than in 0xC0-0xFF (Windows-
 * 1252's accented letters).  The limit: a file whose only high bytes are
 * a few typographic quotes or dashes may be taken for the other one.
 */
static bool
looks_like_macroman(const unsigned char *data, size_t len)
{
	size_t		low = 0;
	size_t		high = 0;

	for (size_t i = 0; i < len; i++)
	{
		unsigned char c = data[i];

		if (c == 0x81 || c == 0x8D || c == 0x8F || c == 0x90 || c == 0x9D)
			return true;
		if (c >= 0x80 && c <= 0x9F)
			low++;
		else if (c >= 0xC0)
			high++;
	}
	return low > high;
}

PG_FUNCTION_INFO_V1(upflow_decode_file);

Datum
upflow_decode_file(PG_FUNCTION_ARGS)
{
	bytea	   *file;
	const unsigned char *data;
	size_t		len;
	char	   *requested;
	int			encoding;
	const char *encoding_name;
	text	   *result;
	TupleDesc	tupdesc;
	Datum		values[2];
	bool		nulls[2] = {false, false};

	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	if (GetDatabaseEncoding() != PG_UTF8)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("upflow_import needs a UTF8 database"),
				 errdetail("This database's encoding is %s.", GetDatabaseEncodingName()),
				 errhint("Create the database with ENCODING 'UTF8'.")));
	if (get_call_result_type(fcinfo, NULL, &tupdesc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "return type must be a row type");

	file = PG_GETARG_BYTEA_PP(0);
	data = (const unsigned char *) VARDATA_ANY(file);
	len = VARSIZE_ANY_EXHDR(file);
	upflow_check_file_size(len);

	requested = PG_ARGISNULL(1) ? "auto" : text_to_cstring(PG_GETARG_TEXT_PP(1));

	if (pg_strcasecmp(requested, "auto") == 0)
	{
		if (len >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF)
			encoding = PG_UTF8;
		else if (len >= 2 && data[0] == 0xFF && data[1] == 0xFE)
			encoding = ENC_UTF16LE;
		else if (len >= 2 && data[0] == 0xFE && data[1] == 0xFF)
			encoding = ENC_UTF16BE;
		else if (pg_encoding_verifymbstr(PG_UTF8, (const char *) data, (int) len) == (int) len)
			encoding = PG_UTF8;
		else if (looks_like_macroman(data, len))
			encoding = ENC_MACROMAN;
		else
			encoding = PG_WIN1252;
	}
	else if (pg_strcasecmp(requested, "MACROMAN") == 0 || pg_strcasecmp(requested, "MAC") == 0 ||
			 pg_strcasecmp(requested, "MACINTOSH") == 0 || pg_strcasecmp(requested, "X-MAC-ROMAN") == 0)
		encoding = ENC_MACROMAN;
	else if (pg_strcasecmp(requested, "UTF-16LE") == 0 || pg_strcasecmp(requested, "UTF16LE") == 0)
		encoding = ENC_UTF16LE;
	else if (pg_strcasecmp(requested, "UTF-16BE") == 0 || pg_strcasecmp(requested, "UTF16BE") == 0)
		encoding = ENC_UTF16BE;
	else if (pg_strcasecmp(requested, "UTF-16") == 0 || pg_strcasecmp(requested, "UTF16") == 0)
		/* Without a byte order mark, Windows' "Unicode" is little-endian. */
		encoding = (len >= 2 && data[0] == 0xFE && data[1] == 0xFF) ? ENC_UTF16BE : ENC_UTF16LE;
	else
	{
		encoding = pg_char_to_encoding(requested);
		if (encoding < 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("unknown encoding \"%s\"", requested),
					 errhint("Use \"auto\", UTF8, UTF-16LE, UTF-16BE, WIN1252, MACROMAN, LATIN1 or another PostgreSQL encoding name (the command line's --encoding takes the same names).")));
	}

	if (encoding == ENC_MACROMAN)
	{
		encoding_name = "MACROMAN";
		result = decode_macroman(data, len);
	}
	else if (encoding == ENC_UTF16LE || encoding == ENC_UTF16BE)
	{
		bool		big_endian = (encoding == ENC_UTF16BE);
		size_t		skipped = 0;

		encoding_name = big_endian ? "UTF-16BE" : "UTF-16LE";
		/* Skip the byte order mark. */
		if (len >= 2 && ((big_endian && data[0] == 0xFE && data[1] == 0xFF) ||
						 (!big_endian && data[0] == 0xFF && data[1] == 0xFE)))
			data += 2, len -= 2, skipped = 2;
		result = decode_utf16(data, len, skipped, big_endian, encoding_name);
	}
	else
	{
		int			valid;
		char	   *converted;

		encoding_name = pg_encoding_to_char(encoding);
		if (encoding == PG_UTF8 && len >= 3 && data[0] == 0xEF && data[1] == 0xBB && data[2] == 0xBF)
			data += 3, len -= 3;

		valid = pg_encoding_verifymbstr(encoding, (const char *) data, (int) len);
		if (valid < (int) len)
			report_invalid(encoding_name, data, len, valid);

		/* Five bytes have no character in Windows-1252. */
		if (encoding == PG_WIN1252)
			for (size_t i = 0; i < len; i++)
				if (data[i] == 0x81 || data[i] == 0x8D || data[i] == 0x8F ||
					data[i] == 0x90 || data[i] == 0x9D)
					report_invalid(encoding_name, data, len, i);

		converted = (char *) pg_do_encoding_conversion((unsigned char *) data, (int) len,
													   encoding, PG_UTF8);
		if (converted == (const char *) data)
			result = cstring_to_text_with_len((const char *) data, (int) len);
		else
			result = cstring_to_text(converted);
	}

	values[0] = PointerGetDatum(result);
	values[1] = CStringGetTextDatum(encoding_name);
	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(BlessTupleDesc(tupdesc), values, nulls)));
}
