/*-------------------------------------------------------------------------
 *
 * contact_fields.c
 *		The contact fields of an import: header matching (explicit mapping
 *		and automatic recognition of English and French header names) and
 *		per-value validation.
 *
 * This file is part of the pure-C core: no PostgreSQL header, no memory
 * allocation.  Every function works on the caller's buffers, so that the
 * module can be unit tested and fuzzed alone, and the value checks can run
 * once per cell on files of millions of lines.
 *
 * Header names are compared in a normalized form (upf_normalize_header).
 * The synonym table below is written in that form already, so recognizing
 * a header costs one normalization of the header and a few string
 * comparisons, never a normalization of the table.
 *
 * src/contact_fields.c
 *
 *-------------------------------------------------------------------------
 */
#include "contact_fields.h"

#include <string.h>

/*
 * Normalized headers longer than this cannot be a synonym (the longest is
 * far shorter; a unit test checks it), so upf_match_header can normalize
 * into a stack buffer of this size.
 */
#define MATCH_BUFSIZE 256

/* ----------
 * Field table
 * ----------
 */

/*
 * Synonyms, in normalized form (lower case ASCII, no accents, one space
 * between words).  Each must belong to one field only, and each field's
 * list holds its template header and its SQL name, normalized: the unit
 * tests check all of this.  Matching is exact on the whole normalized
 * name, so "nom" (family_name) and "nom du client" (customer_name) do not
 * clash.  Each list starts with the English synonyms (CRM exports'
 * headers included); those only French files use follow, from the
 * field's french_from: they decide the language of a file's labels.
 */
static const char *const customer_name_synonyms[] = {
	"customer name", "customer", "client", "client name", "company",
	"company name", "account name", "associated company",
	/* French */
	"nom du client", "nom client", "raison sociale", "societe",
	"nom de la societe", "nom societe", "entreprise", "nom de l entreprise",
	"nom entreprise", "nom du tiers", "tiers",
	NULL
};

static const char *const external_id_synonyms[] = {
	"client id external id", "client id", "external id", "customer id",
	"customer external id", "customer code", "customer number",
	"account number", "account id", "associated company id", "company id",
	/* French */
	"id client", "identifiant client", "id externe", "identifiant externe",
	"code client", "numero client", "numero de compte", "n client",
	"no client", "reference client", "ref client", "code tiers",
	"compte tiers", "numero de tiers", "compte client", "code du tiers",
	NULL
};

static const char *const email_synonyms[] = {
	"contact email address", "contact email", "email", "e mail",
	"email address", "e mail address", "mail",
	/* French */
	"adresse email", "adresse e mail", "adresse mail", "courriel",
	"email du contact", "e mail du contact", "adresse email du contact",
	NULL
};

static const char *const first_name_synonyms[] = {
	"first name", "firstname", "given name", "contact first name",
	/* French */
	"prenom", "prenom du contact",
	NULL
};

static const char *const family_name_synonyms[] = {
	"family name", "last name", "lastname", "surname", "contact last name",
	/* French */
	"nom", "nom de famille", "nom du contact",
	NULL
};

static const char *const phone_synonyms[] = {
	"phone number", "phone", "telephone number", "tel", "mobile",
	"contact phone", "mobile phone",
	/* French */
	"telephone", "portable", "numero de telephone", "numero de tel",
	"telephone du contact",
	NULL
};

static const char *const position_synonyms[] = {
	"position", "job title", "title", "role", "job",
	/* French */
	"poste", "fonction", "titre", "intitule du poste",
	NULL
};

static const char *const is_main_synonyms[] = {
	"main contact", "is main", "main", "primary contact", "is main contact",
	/* French */
	"contact principal", "principal",
	NULL
};

static const char *const account_manager_email_synonyms[] = {
	"account manager email", "account manager",
	"account manager email address", "account manager e mail",
	"account owner", "account owner email",
	/* French */
	"charge de compte", "email du charge de compte",
	"e mail du charge de compte", "email charge de compte",
	"e mail charge de compte", "gestionnaire de compte",
	"email du gestionnaire de compte", "e mail du gestionnaire de compte",
	"responsable de compte", "email du responsable de compte",
	"e mail du responsable de compte",
	NULL
};

/*
 * The synonyms both languages use: they do not count in the language of a
 * file (upf_headers_language).  The unit tests check that each is an
 * English synonym.
 */
static const char *const neutral_synonyms[] = {
	"client", "email", "e mail", "mail", "tel", "mobile", "position", "role",
	"job",
	NULL
};

typedef struct field_info
{
	const char *name;			/* SQL name */
	const char *template_header;	/* header of the template file */
	const char *label_en;		/* how messages name the field */
	const char *label_fr;		/* the same, for a French file */
	size_t		max_chars;		/* longest stored value, in characters */
	bool		required;
	const char *const *synonyms;
	int			french_from;	/* synonyms[french_from...] are French */
} field_info;

/* In upf_field order. */
static const field_info fields[UPF_NFIELDS] = {
	{"customer_name", "Customer name", "Customer name", "Nom du client", 255,
	true, customer_name_synonyms, 8},
	{"external_id", "Client ID (External Id)", "Client ID", "ID client", 255,
	true, external_id_synonyms, 11},
	{"email", "Contact email address", "Email", "Adresse e-mail", 254, true,
	email_synonyms, 7},
	{"first_name", "First name", "First name", "Prénom", 255, false,
	first_name_synonyms, 4},
	{"family_name", "Family name", "Family name", "Nom", 255, false,
	family_name_synonyms, 5},
	{"phone", "Phone number", "Phone number", "Téléphone", 50, false,
	phone_synonyms, 7},
	{"position", "Position", "Position", "Fonction", 255, false,
	position_synonyms, 5},
	{"is_main", "Main contact", "Main contact", "Contact principal", 16,
	false, is_main_synonyms, 5},
	{"account_manager_email", "Account manager email",
		"Account manager email", "E-mail du chargé de compte", 254, false,
	account_manager_email_synonyms, 6}
};

/* The enum is a plain int underneath: callers may pass anything. */
static inline bool
field_ok(upf_field field)
{
	return (int) field >= 0 && (int) field < UPF_NFIELDS;
}

const char *
upf_field_name(upf_field field)
{
	return field_ok(field) ? fields[field].name : NULL;
}

int
upf_field_by_name(const char *name, size_t len)
{
	int			f;

	if (name == NULL)
		return -1;
	for (f = 0; f < UPF_NFIELDS; f++)
	{
		if (strlen(fields[f].name) == len &&
			memcmp(fields[f].name, name, len) == 0)
			return f;
	}
	return -1;
}

bool
upf_field_required(upf_field field)
{
	return field_ok(field) && fields[field].required;
}

size_t
upf_field_max_chars(upf_field field)
{
	return field_ok(field) ? fields[field].max_chars : 0;
}

const char *
upf_field_template_header(upf_field field)
{
	return field_ok(field) ? fields[field].template_header : NULL;
}

const char *const *
upf_field_synonyms(upf_field field)
{
	return field_ok(field) ? fields[field].synonyms : NULL;
}

const char *
upf_field_label(upf_field field, upf_language language)
{
	if (!field_ok(field))
		return NULL;
	return language == UPF_LANGUAGE_FRENCH ? fields[field].label_fr : fields[field].label_en;
}

/* ----------
 * UTF-8
 * ----------
 */

/*
 * Decode the character at p (p < end).  Returns its code point and sets
 * *len to its length, or returns -1 with *len = 1 when p does not start a
 * well-formed sequence (stray continuation byte, truncated sequence,
 * overlong form, surrogate, beyond U+10FFFF): the caller then skips that
 * one byte, so no input can make us read past end.
 */
static long
utf8_decode(const unsigned char *p, const unsigned char *end, int *len)
{
	size_t		avail = (size_t) (end - p);
	unsigned char c = p[0];
	long		cp;

	*len = 1;
	if (c < 0x80)
		return c;
	if (c >= 0xC2 && c <= 0xDF)
	{
		if (avail >= 2 && (p[1] & 0xC0) == 0x80)
		{
			*len = 2;
			return ((long) (c & 0x1F) << 6) | (p[1] & 0x3F);
		}
	}
	else if (c >= 0xE0 && c <= 0xEF)
	{
		if (avail >= 3 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80)
		{
			cp = ((long) (c & 0x0F) << 12) | ((long) (p[1] & 0x3F) << 6) |
				(p[2] & 0x3F);
			if (cp >= 0x800 && (cp < 0xD800 || cp > 0xDFFF))
			{
				*len = 3;
				return cp;
			}
		}
	}
	else if (c >= 0xF0 && c <= 0xF4)
	{
		if (avail >= 4 && (p[1] & 0xC0) == 0x80 && (p[2] & 0xC0) == 0x80 &&
			(p[3] & 0xC0) == 0x80)
		{
			cp = ((long) (c & 0x07) << 18) | ((long) (p[1] & 0x3F) << 12) |
				((long) (p[2] & 0x3F) << 6) | (p[3] & 0x3F);
			if (cp >= 0x10000 && cp <= 0x10FFFF)
			{
				*len = 4;
				return cp;
			}
		}
	}
	return -1;
}

/*
 * Largest length <= len that does not end inside a character of the valid
 * UTF-8 string s (used to truncate without leaving half a character).
 */
static size_t
utf8_clip(const char *s, size_t len)
{
	size_t		start = len;
	unsigned char lead;
	size_t		need;

	while (start > 0 && len - start < 3 &&
		   ((unsigned char) s[start - 1] & 0xC0) == 0x80)
		start--;
	if (start == 0)
		return len;
	lead = (unsigned char) s[--start];
	need = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
	return start + need > len ? start : len;
}

size_t
upf_utf8_chars(const char *s, size_t len)
{
	size_t		n = 0;
	size_t		i;

	for (i = 0; i < len; i++)
		if (((unsigned char) s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

/*
 * Invisible format characters (Unicode category Cf) that make one value
 * look like another: soft hyphen, Arabic letter mark, Mongolian vowel
 * separator, zero-width space and joiners, direction marks, embeddings and
 * overrides and isolates, word joiner and invisible operators, the byte
 * order mark, interlinear annotation marks, tags.
 */
static bool
is_invisible_format(uint32_t c)
{
	return c == 0x00AD || c == 0x061C || c == 0x180E ||
		(c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
		(c >= 0x2060 && c <= 0x2064) || (c >= 0x2066 && c <= 0x206F) ||
		c == 0xFEFF || (c >= 0xFFF9 && c <= 0xFFFB) ||
		c == 0xE0001 || (c >= 0xE0020 && c <= 0xE007F);
}

long
upf_find_invisible(const char *s, size_t len, uint32_t *codepoint, size_t *character)
{
	size_t		chars = 0;

	for (size_t i = 0; i < len;)
	{
		const unsigned char *p = (const unsigned char *) s + i;
		uint32_t	c;
		size_t		n;

		if (p[0] < 0x80)
			c = p[0], n = 1;
		else if ((p[0] & 0xE0) == 0xC0 && i + 1 < len)
			c = ((uint32_t) (p[0] & 0x1F) << 6) | (p[1] & 0x3F), n = 2;
		else if ((p[0] & 0xF0) == 0xE0 && i + 2 < len)
			c = ((uint32_t) (p[0] & 0x0F) << 12) | ((uint32_t) (p[1] & 0x3F) << 6) | (p[2] & 0x3F), n = 3;
		else if ((p[0] & 0xF8) == 0xF0 && i + 3 < len)
			c = ((uint32_t) (p[0] & 0x07) << 18) | ((uint32_t) (p[1] & 0x3F) << 12) |
				((uint32_t) (p[2] & 0x3F) << 6) | (p[3] & 0x3F), n = 4;
		else
			c = p[0], n = 1;	/* not UTF-8: the caller checks the encoding */
		chars++;
		if (is_invisible_format(c))
		{
			if (codepoint)
				*codepoint = c;
			if (character)
				*character = chars;
			return (long) i;
		}
		i += n;
	}
	return -1;
}

/* ----------
 * Header normalization
 * ----------
 */

/*
 * Folding of U+00C0-U+017F (Latin-1 letters and Latin Extended-A) to
 * lower case ASCII without diacritics; "" marks a separator (× and ÷).
 */
static const char latin_fold[0x180 - 0xC0][3] = {
	/* U+00C0 À Á Â Ã Ä Å Æ Ç */
	"a", "a", "a", "a", "a", "a", "ae", "c",
	/* U+00C8 È É Ê Ë Ì Í Î Ï */
	"e", "e", "e", "e", "i", "i", "i", "i",
	/* U+00D0 Ð Ñ Ò Ó Ô Õ Ö × */
	"d", "n", "o", "o", "o", "o", "o", "",
	/* U+00D8 Ø Ù Ú Û Ü Ý Þ ß */
	"o", "u", "u", "u", "u", "y", "th", "ss",
	/* U+00E0 à á â ã ä å æ ç */
	"a", "a", "a", "a", "a", "a", "ae", "c",
	/* U+00E8 è é ê ë ì í î ï */
	"e", "e", "e", "e", "i", "i", "i", "i",
	/* U+00F0 ð ñ ò ó ô õ ö ÷ */
	"d", "n", "o", "o", "o", "o", "o", "",
	/* U+00F8 ø ù ú û ü ý þ ÿ */
	"o", "u", "u", "u", "u", "y", "th", "y",
	/* U+0100 Ā ā Ă ă Ą ą Ć ć */
	"a", "a", "a", "a", "a", "a", "c", "c",
	/* U+0108 Ĉ ĉ Ċ ċ Č č Ď ď */
	"c", "c", "c", "c", "c", "c", "d", "d",
	/* U+0110 Đ đ Ē ē Ĕ ĕ Ė ė */
	"d", "d", "e", "e", "e", "e", "e", "e",
	/* U+0118 Ę ę Ě ě Ĝ ĝ Ğ ğ */
	"e", "e", "e", "e", "g", "g", "g", "g",
	/* U+0120 Ġ ġ Ģ ģ Ĥ ĥ Ħ ħ */
	"g", "g", "g", "g", "h", "h", "h", "h",
	/* U+0128 Ĩ ĩ Ī ī Ĭ ĭ Į į */
	"i", "i", "i", "i", "i", "i", "i", "i",
	/* U+0130 İ ı Ĳ ĳ Ĵ ĵ Ķ ķ */
	"i", "i", "ij", "ij", "j", "j", "k", "k",
	/* U+0138 ĸ Ĺ ĺ Ļ ļ Ľ ľ Ŀ */
	"k", "l", "l", "l", "l", "l", "l", "l",
	/* U+0140 ŀ Ł ł Ń ń Ņ ņ Ň */
	"l", "l", "l", "n", "n", "n", "n", "n",
	/* U+0148 ň ŉ Ŋ ŋ Ō ō Ŏ ŏ */
	"n", "n", "n", "n", "o", "o", "o", "o",
	/* U+0150 Ő ő Œ œ Ŕ ŕ Ŗ ŗ */
	"o", "o", "oe", "oe", "r", "r", "r", "r",
	/* U+0158 Ř ř Ś ś Ŝ ŝ Ş ş */
	"r", "r", "s", "s", "s", "s", "s", "s",
	/* U+0160 Š š Ţ ţ Ť ť Ŧ ŧ */
	"s", "s", "t", "t", "t", "t", "t", "t",
	/* U+0168 Ũ ũ Ū ū Ŭ ŭ Ů ů */
	"u", "u", "u", "u", "u", "u", "u", "u",
	/* U+0170 Ű ű Ų ų Ŵ ŵ Ŷ ŷ */
	"u", "u", "u", "u", "w", "w", "y", "y",
	/* U+0178 Ÿ Ź ź Ż ż Ž ž ſ */
	"y", "z", "z", "z", "z", "z", "z", "s"
};

/*
 * The normalizer is an iterator producing one output byte at a time, so
 * that two names can be compared in their normalized forms without any
 * buffer (hence without any length limit) and upf_normalize_header is a
 * thin loop around it.
 */
typedef struct norm_state
{
	const unsigned char *p;		/* next input byte */
	const unsigned char *end;
	const char *piece;			/* output bytes of the current character */
	size_t		piece_len;		/* ... not returned yet */
	bool		started;		/* some character was output already */
	bool		space_pending;	/* a separator run follows it */
	char		ascii;			/* storage for a lower-cased ASCII piece */
} norm_state;

static void
norm_init(norm_state *st, const char *in, size_t len)
{
	st->p = (const unsigned char *) in;
	/* no pointer arithmetic on NULL, even with a zero offset */
	st->end = in != NULL ? st->p + len : st->p;
	st->piece = NULL;
	st->piece_len = 0;
	st->started = false;
	st->space_pending = false;
	st->ascii = 0;
}

/*
 * Consume one input character.  Returns false for a separator; otherwise
 * sets piece/piece_len to its normalized bytes and returns true.
 */
static bool
norm_take_char(norm_state *st)
{
	const unsigned char *start = st->p;
	int			len;
	long		cp = utf8_decode(start, st->end, &len);
	const char *fold;

	st->p += len;
	if (cp < 0)
		return false;			/* malformed byte */
	if (cp < 0x80)
	{
		if (cp >= 'A' && cp <= 'Z')
			cp += 'a' - 'A';
		else if (!((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')))
			return false;
		st->ascii = (char) cp;
		st->piece = &st->ascii;
		st->piece_len = 1;
		return true;
	}
	if (cp < 0xC0)
	{
		/* Latin-1 symbols and spaces; only a few are letters or digits */
		switch (cp)
		{
			case 0xAA:			/* ª */
				fold = "a";
				break;
			case 0xBA:			/* º, as in "Nº client" */
				fold = "o";
				break;
			case 0xB2:			/* ² */
				fold = "2";
				break;
			case 0xB3:			/* ³ */
				fold = "3";
				break;
			case 0xB9:			/* ¹ */
				fold = "1";
				break;
			case 0xB5:			/* µ: a letter with no ASCII form */
				st->piece = (const char *) start;
				st->piece_len = (size_t) len;
				return true;
			default:
				return false;
		}
		st->piece = fold;
		st->piece_len = 1;
		return true;
	}
	if (cp < 0x180)
	{
		fold = latin_fold[cp - 0xC0];
		if (fold[0] == '\0')
			return false;		/* × ÷ */
		st->piece = fold;
		st->piece_len = fold[1] != '\0' ? 2 : 1;
		return true;
	}
	/* General Punctuation (spaces, dashes, quotes), ideographic space, BOM */
	if ((cp >= 0x2000 && cp <= 0x206F) || cp == 0x3000 || cp == 0xFEFF)
		return false;
	/* anything else is kept as it is */
	st->piece = (const char *) start;
	st->piece_len = (size_t) len;
	return true;
}

/* Next byte of the normalized form, or -1 at its end. */
static int
norm_next(norm_state *st)
{
	for (;;)
	{
		if (st->piece_len > 0)
		{
			st->piece_len--;
			return (unsigned char) *st->piece++;
		}
		if (st->p >= st->end)
			return -1;			/* a trailing separator run is dropped */
		if (!norm_take_char(st))
		{
			/* a leading separator run is dropped too */
			if (st->started)
				st->space_pending = true;
			continue;
		}
		st->started = true;
		if (st->space_pending)
		{
			/* the new piece is returned by the next calls */
			st->space_pending = false;
			return ' ';
		}
	}
}

size_t
upf_normalize_header(const char *in, size_t len, char *out, size_t outsize)
{
	norm_state	st;
	size_t		n = 0;
	int			c;

	norm_init(&st, in, len);
	while ((c = norm_next(&st)) >= 0)
	{
		if (n + 1 < outsize)
			out[n] = (char) c;
		n++;
	}
	if (outsize > 0)
	{
		size_t		w = n;

		if (w >= outsize)
			w = utf8_clip(out, outsize - 1);
		out[w] = '\0';
	}
	return n;
}

/* Do a and b have the same normalized form? */
static bool
norm_equal(const char *a, size_t alen, const char *b, size_t blen)
{
	norm_state	sa;
	norm_state	sb;
	int			ca;

	norm_init(&sa, a, alen);
	norm_init(&sb, b, blen);
	do
	{
		ca = norm_next(&sa);
		if (ca != norm_next(&sb))
			return false;
	} while (ca >= 0);
	return true;
}

int
upf_match_header(const char *header, size_t len)
{
	char		buf[MATCH_BUFSIZE];
	size_t		n;
	int			f;

	n = upf_normalize_header(header, len, buf, sizeof(buf));
	if (n == 0 || n >= sizeof(buf))
		return -1;
	for (f = 0; f < UPF_NFIELDS; f++)
	{
		const char *const *syn;

		for (syn = fields[f].synonyms; *syn != NULL; syn++)
		{
			if ((*syn)[0] == buf[0] && strcmp(*syn, buf) == 0)
				return f;
		}
	}
	return -1;
}

static bool
is_neutral(const char *normalized)
{
	for (const char *const *syn = neutral_synonyms; *syn != NULL; syn++)
	{
		if (strcmp(*syn, normalized) == 0)
			return true;
	}
	return false;
}

upf_language
upf_headers_language(const char *const *headers, const size_t *lengths,
					 int nheaders)
{
	int			french = 0;
	int			english = 0;

	if (headers == NULL)
		return UPF_LANGUAGE_ENGLISH;
	for (int i = 0; i < nheaders; i++)
	{
		char		buf[MATCH_BUFSIZE];
		size_t		n;

		if (headers[i] == NULL)
			continue;
		n = upf_normalize_header(headers[i], lengths[i], buf, sizeof(buf));
		if (n == 0 || n >= sizeof(buf))
			continue;
		for (int f = 0; f < UPF_NFIELDS; f++)
		{
			for (int k = 0; fields[f].synonyms[k] != NULL; k++)
			{
				if (strcmp(fields[f].synonyms[k], buf) != 0)
					continue;
				if (k >= fields[f].french_from)
					french++;
				else if (!is_neutral(buf))
					english++;
			}
		}
	}
	return french > english ? UPF_LANGUAGE_FRENCH : UPF_LANGUAGE_ENGLISH;
}

bool
upf_synonym_is_french(upf_field field, int index)
{
	return field_ok(field) && index >= fields[field].french_from;
}

const char *const *
upf_neutral_synonyms(void)
{
	return neutral_synonyms;
}

/* ----------
 * Mapping
 * ----------
 */

static void
add_problem(upf_mapping_problem *problems, int max_problems, int *n,
			upf_mapping_problem_kind kind, int field, int field2,
			int column, int column2)
{
	if (*n < max_problems)
	{
		upf_mapping_problem *p = &problems[*n];

		p->kind = kind;
		p->field = field;
		p->field2 = field2;
		p->column = column;
		p->column2 = column2;
	}
	(*n)++;
}

int
upf_resolve_mapping(const char *const *headers, const size_t *lengths,
					int nheaders,
					const upf_mapping_request requests[UPF_NFIELDS],
					int columns[UPF_NFIELDS],
					upf_mapping_problem *problems, int max_problems)
{
	/* each field's own problem (-1: none) and its columns */
	int			own_kind[UPF_NFIELDS];
	int			own_col[UPF_NFIELDS];
	int			own_col2[UPF_NFIELDS];
	int			nauto[UPF_NFIELDS];
	bool		is_auto[UPF_NFIELDS];
	int			n = 0;
	int			f;
	int			g;
	int			c;

	if (nheaders < 0)
		nheaders = 0;
	if (problems == NULL)
		max_problems = 0;

	for (f = 0; f < UPF_NFIELDS; f++)
	{
		columns[f] = -1;
		own_kind[f] = -1;
		own_col[f] = -1;
		own_col2[f] = -1;
		nauto[f] = 0;
		is_auto[f] = requests[f].kind == UPF_MAP_AUTO;
	}

	/* Explicit requests first: they have priority over recognition. */
	for (f = 0; f < UPF_NFIELDS; f++)
	{
		const upf_mapping_request *rq = &requests[f];
		int			found = 0;

		switch (rq->kind)
		{
			case UPF_MAP_HEADER:
				if (headers == NULL)
				{
					own_kind[f] = UPF_MP_NO_HEADER_LINE;
					break;
				}
				for (c = 0; c < nheaders; c++)
				{
					if (!norm_equal(headers[c], lengths[c],
									rq->header, rq->header_len))
						continue;
					if (found == 0)
						own_col[f] = c;
					else if (found == 1)
						own_col2[f] = c;
					found++;
				}
				if (found == 0)
					own_kind[f] = UPF_MP_HEADER_NOT_FOUND;
				else if (found > 1)
					own_kind[f] = UPF_MP_HEADER_AMBIGUOUS;
				else
				{
					columns[f] = own_col[f];
					own_col[f] = -1;
				}
				break;
			case UPF_MAP_COLUMN:
				if (rq->column < 1 || rq->column > nheaders)
					own_kind[f] = UPF_MP_COLUMN_OUT_OF_RANGE;
				else
					columns[f] = (int) (rq->column - 1);
				break;
			case UPF_MAP_AUTO:
				break;
			case UPF_MAP_IGNORE:
			default:
				/* an unknown kind maps nothing, like an explicit null */
				break;
		}
	}

	/*
	 * Recognition: one pass over the headers (each names at most one field)
	 * for the fields left to it, skipping the columns taken explicitly.
	 */
	if (headers != NULL)
	{
		for (c = 0; c < nheaders; c++)
		{
			bool		taken = false;

			f = upf_match_header(headers[c], lengths[c]);
			if (f < 0 || !is_auto[f])
				continue;
			for (g = 0; g < UPF_NFIELDS && !taken; g++)
				taken = !is_auto[g] && columns[g] == c;
			if (taken)
				continue;
			if (nauto[f] == 0)
				columns[f] = c;
			else if (nauto[f] == 1)
				own_col2[f] = c;
			nauto[f]++;
		}
		for (f = 0; f < UPF_NFIELDS; f++)
		{
			if (nauto[f] > 1)
			{
				own_kind[f] = UPF_MP_AUTO_AMBIGUOUS;
				own_col[f] = columns[f];
				columns[f] = -1;
			}
		}
	}

	/* Report in field order. */
	for (f = 0; f < UPF_NFIELDS; f++)
	{
		if (own_kind[f] >= 0)
			add_problem(problems, max_problems, &n,
						(upf_mapping_problem_kind) own_kind[f], f, -1,
						own_col[f], own_col2[f]);
		else if (fields[f].required && columns[f] < 0)
			add_problem(problems, max_problems, &n,
						UPF_MP_REQUIRED_UNMAPPED, f, -1, -1, -1);

		if (columns[f] < 0)
			continue;
		/* claims on this column are reported once, by its first field */
		for (g = 0; g < f; g++)
			if (columns[g] == columns[f])
				break;
		if (g < f)
			continue;
		for (g = f + 1; g < UPF_NFIELDS; g++)
			if (columns[g] == columns[f])
				add_problem(problems, max_problems, &n,
							UPF_MP_COLUMN_CLAIMED_TWICE, f, g,
							columns[f], -1);
	}
	return n;
}

/* ----------
 * Values
 * ----------
 */

/* Length of the trimmable character at the start of p[0..len), or 0. */
static inline size_t
trim_head(const unsigned char *p, size_t len)
{
	if (len == 0)
		return 0;
	switch (p[0])
	{
		case ' ':
		case '\t':
		case '\r':
		case '\n':
			return 1;
		case 0xC2:				/* U+00A0 */
			return len >= 2 && p[1] == 0xA0 ? 2 : 0;
		case 0xE2:				/* U+202F */
			return len >= 3 && p[1] == 0x80 && p[2] == 0xAF ? 3 : 0;
		case 0xEF:				/* U+FEFF */
			return len >= 3 && p[1] == 0xBB && p[2] == 0xBF ? 3 : 0;
		default:
			return 0;
	}
}

/* Length of the trimmable character at the end of p[0..len), or 0. */
static inline size_t
trim_tail(const unsigned char *p, size_t len)
{
	if (len == 0)
		return 0;
	switch (p[len - 1])
	{
		case ' ':
		case '\t':
		case '\r':
		case '\n':
			return 1;
		case 0xA0:				/* U+00A0 */
			return len >= 2 && p[len - 2] == 0xC2 ? 2 : 0;
		case 0xAF:				/* U+202F */
			return len >= 3 && p[len - 3] == 0xE2 &&
				p[len - 2] == 0x80 ? 3 : 0;
		case 0xBF:				/* U+FEFF */
			return len >= 3 && p[len - 3] == 0xEF &&
				p[len - 2] == 0xBB ? 3 : 0;
		default:
			return 0;
	}
}

static inline void
trim(const unsigned char **p, size_t *len)
{
	size_t		k;

	while ((k = trim_head(*p, *len)) > 0)
	{
		*p += k;
		*len -= k;
	}
	while ((k = trim_tail(*p, *len)) > 0)
		*len -= k;
}

const char *
upf_clean_value(const char *value, size_t len, size_t *out_len)
{
	const unsigned char *p = (const unsigned char *) value;

	trim(&p, &len);

	/*
	 * Our error-lines CSV (and spreadsheet-safe exports in general) put a '
	 * before what a spreadsheet would run as a formula; take it back off.  A
	 * ' before anything else is data ("'abc" stays).  Taking off a mark
	 * before a tab or CR trims again, which can uncover another mark
	 * ("'\t'=x"): that one comes off too, so that no cleaned value starts
	 * with a mark an export would have to add again.
	 */
	while (len >= 2 && p[0] == '\'')
	{
		if (p[1] == '=' || p[1] == '+' || p[1] == '-' || p[1] == '@')
		{
			p++;
			len--;
			break;
		}
		if (p[1] == '\t' || p[1] == '\r')
		{
			p++;
			len--;
			trim(&p, &len);
			continue;
		}
		/* full-width = + - @: U+FF1D U+FF0B U+FF0D U+FF20 */
		if (len >= 4 && p[1] == 0xEF && p[2] == 0xBC &&
			(p[3] == 0x9D || p[3] == 0x8B || p[3] == 0x8D || p[3] == 0xA0))
		{
			p++;
			len--;
		}
		break;
	}
	*out_len = len;
	return (const char *) p;
}

bool
upf_is_title_row(const char *const *fields, const size_t *lengths, int nfields)
{
	for (int i = 1; i < nfields; i++)
	{
		size_t		len;

		upf_clean_value(fields[i], lengths[i], &len);
		if (len > 0)
			return false;
	}
	return true;
}

/* The closing lines of report exports (Salesforce), without case. */
static const char *const report_footer_prefixes[] = {
	"grand totals",
	"copyright (c)",
	"copyright \xC2\xA9",
	"confidential information",
	"generated by:",
	NULL
};

bool
upf_is_report_footer(const char *cell, size_t len)
{
	const char *v = upf_clean_value(cell, len, &len);

	for (int i = 0; report_footer_prefixes[i] != NULL; i++)
	{
		size_t		plen = strlen(report_footer_prefixes[i]);
		size_t		k;

		if (len < plen)
			continue;
		for (k = 0; k < plen; k++)
		{
			unsigned char c = (unsigned char) v[k];

			if (c >= 'A' && c <= 'Z')
				c = c - 'A' + 'a';
			if (c != (unsigned char) report_footer_prefixes[i][k])
				break;
		}
		if (k == plen)
			return true;
	}
	return false;
}

bool
upf_is_multiple_id(const char *s, size_t len)
{
	s = upf_clean_value(s, len, &len);
	return memchr(s, ';', len) != NULL;
}

bool
upf_starts_like_formula(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *) s;

	if (len == 0)
		return false;
	if (u[0] == '=' || u[0] == '+' || u[0] == '-' || u[0] == '@' ||
		u[0] == '\t' || u[0] == '\r')
		return true;
	return len >= 3 && u[0] == 0xEF && u[1] == 0xBC &&
		(u[2] == 0x9D || u[2] == 0x8B || u[2] == 0x8D || u[2] == 0xA0);
}

/* ----------
 * Email addresses
 * ----------
 */

/*
 * Length of the space character (ASCII white space or a Unicode space
 * separator: U+00A0, U+1680, U+2000-U+200A, U+202F, U+205F, U+3000) at the
 * start of p[0..len), or 0.
 */
static inline size_t
space_len(const unsigned char *p, size_t len)
{
	switch (p[0])
	{
		case ' ':
		case '\t':
		case '\n':
		case '\v':
		case '\f':
		case '\r':
			return 1;
		case 0xC2:
			return len >= 2 && p[1] == 0xA0 ? 2 : 0;
		case 0xE1:
			return len >= 3 && p[1] == 0x9A && p[2] == 0x80 ? 3 : 0;
		case 0xE2:
			if (len < 3)
				return 0;
			if (p[1] == 0x80 && (p[2] <= 0x8A || p[2] == 0xAF))
				return 3;
			return p[1] == 0x81 && p[2] == 0x9F ? 3 : 0;
		case 0xE3:
			return len >= 3 && p[1] == 0x80 && p[2] == 0x80 ? 3 : 0;
		default:
			return 0;
	}
}

static inline bool
is_ascii_alnum(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c >= '0' && c <= '9');
}

/* Local part: dot-atom of RFC 5322 atext, plus UTF-8 (RFC 6531). */
static bool
email_local_ok(const unsigned char *s, size_t len)
{
	size_t		i;

	if (s[0] == '.' || s[len - 1] == '.')
		return false;
	for (i = 0; i < len; i++)
	{
		unsigned char c = s[i];

		if (is_ascii_alnum(c) || c >= 0x80)
			continue;
		switch (c)
		{
			case '.':
				if (s[i + 1] == '.')	/* i + 1 < len: s[len - 1] != '.' */
					return false;
				break;
			case '!':
			case '#':
			case '$':
			case '%':
			case '&':
			case '\'':
			case '*':
			case '+':
			case '/':
			case '=':
			case '?':
			case '^':
			case '_':
			case '`':
			case '{':
			case '|':
			case '}':
			case '~':
			case '-':
				break;
			default:
				return false;
		}
	}
	return true;
}

/*
 * Domain: two labels or more of 1..63 letters, digits, hyphens (not at
 * either end) or UTF-8 bytes; a top-level label of 2 characters or more,
 * not all digits (so no IP address).
 */
static bool
email_domain_ok(const unsigned char *s, size_t len)
{
	size_t		i = 0;
	size_t		start = 0;
	int			labels = 0;
	size_t		k;
	bool		all_digits = true;

	for (;;)
	{
		start = i;
		while (i < len && s[i] != '.')
		{
			if (!is_ascii_alnum(s[i]) && s[i] != '-' && s[i] < 0x80)
				return false;
			i++;
		}
		if (i == start || i - start > 63 ||
			s[start] == '-' || s[i - 1] == '-')
			return false;
		labels++;
		if (i == len)
			break;
		i++;					/* the dot */
	}
	if (labels < 2 ||
		upf_utf8_chars((const char *) s + start, len - start) < 2)
		return false;
	for (k = start; k < len && all_digits; k++)
		all_digits = s[k] >= '0' && s[k] <= '9';
	return !all_digits;
}

upf_email_problem
upf_check_email(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t		at = 0;
	int			nat = 0;
	size_t		i;

	for (i = 0; i < len; i++)
	{
		if (space_len(s + i, len - i) > 0)
			return UPF_EMAIL_SPACE;
		if (s[i] == '@')
		{
			if (nat++ == 0)
				at = i;
		}
	}
	if (nat == 0)
		return UPF_EMAIL_NO_AT;
	if (nat > 1)
		return UPF_EMAIL_SEVERAL_AT;
	if (at == 0)
		return UPF_EMAIL_EMPTY_LOCAL;
	if (len > 254 || at > 64)
		return UPF_EMAIL_TOO_LONG;
	if (!email_local_ok(s, at))
		return UPF_EMAIL_BAD_LOCAL;
	if (!email_domain_ok(s + at + 1, len - at - 1))
		return UPF_EMAIL_BAD_DOMAIN;
	return UPF_EMAIL_OK;
}

const char *
upf_email_problem_text(upf_email_problem problem)
{
	switch (problem)
	{
		case UPF_EMAIL_OK:
			return "it is valid";
		case UPF_EMAIL_NO_AT:
			return "it has no @ sign";
		case UPF_EMAIL_SEVERAL_AT:
			return "it has more than one @ sign";
		case UPF_EMAIL_EMPTY_LOCAL:
			return "nothing comes before the @ sign";
		case UPF_EMAIL_BAD_LOCAL:
			return "the part before the @ sign has a forbidden character or a misplaced dot";
		case UPF_EMAIL_BAD_DOMAIN:
			return "the domain after the @ sign is not like name.com";
		case UPF_EMAIL_SPACE:
			return "it contains a space";
		case UPF_EMAIL_TOO_LONG:
			return "it is longer than 254 characters or its part before the @ sign is longer than 64";
	}
	return "it is not valid";
}

/* ----------
 * Phone numbers
 * ----------
 */

/* Does s[0..len) end with the ASCII word w, in any case? */
static bool
ends_with_ci(const unsigned char *s, size_t len, const char *w)
{
	size_t		wlen = strlen(w);
	size_t		i;

	if (len < wlen)
		return false;
	s += len - wlen;
	for (i = 0; i < wlen; i++)
	{
		unsigned char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != (unsigned char) w[i])
			return false;
	}
	return true;
}

/*
 * Length of the number proper: s[0..len) less a trailing extension
 * ("ext 12", "ext.12", "x12", "poste 12", "#12": a marker, optional
 * spaces, 1 to 6 digits).
 */
static size_t
phone_main_len(const unsigned char *s, size_t len)
{
	static const char *const markers[] = {"ext.", "ext", "poste", "x", "#"};
	size_t		i = len;
	size_t		m;

	while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9')
		i--;
	if (i == len || len - i > 6)
		return len;
	for (;;)
	{
		if (i >= 1 && s[i - 1] == ' ')
			i--;
		else if (i >= 2 && s[i - 2] == 0xC2 && s[i - 1] == 0xA0)
			i -= 2;
		else
			break;
	}
	for (m = 0; m < sizeof(markers) / sizeof(markers[0]); m++)
		if (ends_with_ci(s, i, markers[m]))
			return i - strlen(markers[m]);
	return len;
}

upf_phone_problem
upf_check_phone(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *) str;
	size_t		main_len = phone_main_len(s, len);
	size_t		digits = 0;
	bool		plus = false;
	size_t		i = 0;

	while (i < main_len)
	{
		unsigned char c = s[i];

		if (c >= '0' && c <= '9')
			digits++;
		else if (c == '+')
		{
			/* "+33 1...", "(+33) 1...", but not "1+2" nor "++33" */
			if (digits > 0 || plus)
				return UPF_PHONE_MISPLACED_PLUS;
			plus = true;
		}
		else if (c == ' ' || c == '.' || c == '-' || c == '/' ||
				 c == '(' || c == ')')
		{
			/* a separator */
		}
		else if (c == 0xC2 && i + 1 < main_len && s[i + 1] == 0xA0)
			i++;				/* U+00A0 */
		else if (c == 0xE2 && i + 2 < main_len && s[i + 1] == 0x80 &&
				 s[i + 2] == 0xAF)
			i += 2;				/* U+202F, French digit grouping */
		else
			return UPF_PHONE_BAD_CHARACTER;
		i++;
	}
	if (digits < 6)
		return UPF_PHONE_TOO_FEW_DIGITS;
	if (digits > 20)
		return UPF_PHONE_TOO_MANY_DIGITS;
	return UPF_PHONE_OK;
}

const char *
upf_phone_problem_text(upf_phone_problem problem)
{
	switch (problem)
	{
		case UPF_PHONE_OK:
			return "it is valid";
		case UPF_PHONE_BAD_CHARACTER:
			return "it contains a letter or a symbol that is not + ( ) . - / or a space";
		case UPF_PHONE_MISPLACED_PLUS:
			return "the + sign can only come first";
		case UPF_PHONE_TOO_FEW_DIGITS:
			return "it has fewer than 6 digits";
		case UPF_PHONE_TOO_MANY_DIGITS:
			return "it has more than 20 digits";
	}
	return "it is not valid";
}

/* ----------
 * Main-contact flag
 * ----------
 */

upf_flag
upf_parse_flag(const char *s, size_t len)
{
	static const char *const true_words[] = {
		"1", "true", "yes", "oui", "x", "vrai", "y", "o"
	};
	static const char *const false_words[] = {
		"0", "false", "no", "non", "faux", "n"
	};
	char		buf[6];			/* longest word, "false", and a NUL */
	size_t		i;

	if (len == 0)
		return UPF_FLAG_UNSET;
	if (len >= sizeof(buf))
		return UPF_FLAG_INVALID;
	for (i = 0; i < len; i++)
	{
		char		c = s[i];

		buf[i] = (c >= 'A' && c <= 'Z') ? (char) (c + 'a' - 'A') : c;
	}
	/* compare with lengths: an embedded NUL must not end the word early */
	for (i = 0; i < sizeof(true_words) / sizeof(true_words[0]); i++)
		if (strlen(true_words[i]) == len &&
			memcmp(true_words[i], buf, len) == 0)
			return UPF_FLAG_TRUE;
	for (i = 0; i < sizeof(false_words) / sizeof(false_words[0]); i++)
		if (strlen(false_words[i]) == len &&
			memcmp(false_words[i], buf, len) == 0)
			return UPF_FLAG_FALSE;
	return UPF_FLAG_INVALID;
}
