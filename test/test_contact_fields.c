/*-------------------------------------------------------------------------
 *
 * test_contact_fields.c
 *		Unit tests (cmocka) of the contact fields core: field table, header
 *		normalization and recognition, mapping resolution, value cleaning
 *		and checks.
 *
 * Build and run from the repository root:
 *	cc -Wall -Wextra -Werror -g -Isrc -o test/test_contact_fields \
 *		test/test_contact_fields.c src/contact_fields.c -lcmocka
 *	./test/test_contact_fields
 *
 *-------------------------------------------------------------------------
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <limits.h>
#include <string.h>
#include <cmocka.h>

#include "contact_fields.h"

/* Length of a string literal, embedded NULs included. */
#define LIT(s) (s), (sizeof(s) - 1)

/* ----------
 * Helpers
 * ----------
 */

static void
check_norm_len(const char *in, size_t len, const char *expected)
{
	char		buf[512];
	size_t		n = upf_normalize_header(in, len, buf, sizeof(buf));

	assert_string_equal(buf, expected);
	assert_int_equal(n, strlen(expected));
}

#define NORM(in, expected) check_norm_len(LIT(in), expected)

static int
match(const char *s)
{
	return upf_match_header(s, strlen(s));
}

static void
check_clean(const char *in, size_t len, const char *expected)
{
	size_t		out_len = 12345;
	const char *out = upf_clean_value(in, len, &out_len);

	assert_int_equal(out_len, strlen(expected));
	assert_memory_equal(out, expected, out_len);
	/* the result is a slice of the input */
	assert_true(out >= in && out + out_len <= in + len);
}

#define CLEAN(in, expected) check_clean(LIT(in), expected)

static upf_email_problem
email(const char *s)
{
	return upf_check_email(s, strlen(s));
}

static upf_phone_problem
phone(const char *s)
{
	return upf_check_phone(s, strlen(s));
}

static upf_flag
flag(const char *s)
{
	return upf_parse_flag(s, strlen(s));
}

/* Requests: everything automatic. */
static void
auto_requests(upf_mapping_request *rq)
{
	memset(rq, 0, sizeof(upf_mapping_request) * UPF_NFIELDS);
	for (int f = 0; f < UPF_NFIELDS; f++)
		rq[f].kind = UPF_MAP_AUTO;
}

static void
req_header(upf_mapping_request *rq, upf_field f, const char *header)
{
	rq[f].kind = UPF_MAP_HEADER;
	rq[f].header = header;
	rq[f].header_len = strlen(header);
}

static void
req_column(upf_mapping_request *rq, upf_field f, long column)
{
	rq[f].kind = UPF_MAP_COLUMN;
	rq[f].column = column;
}

#define MAXH 32

/* A header record built from C strings. */
typedef struct header_set
{
	const char *h[MAXH];
	size_t		len[MAXH];
	int			n;
} header_set;

static void
set_headers(header_set *hs, int n, const char *const *names)
{
	assert_true(n <= MAXH);
	hs->n = n;
	for (int i = 0; i < n; i++)
	{
		hs->h[i] = names[i];
		hs->len[i] = strlen(names[i]);
	}
}

#define HEADERS(hs, ...) \
	do { \
		static const char *const names_[] = {__VA_ARGS__}; \
		set_headers((hs), (int) (sizeof(names_) / sizeof(names_[0])), names_); \
	} while (0)

static int
resolve(const header_set *hs, const upf_mapping_request *rq, int *columns,
		upf_mapping_problem *pb, int max)
{
	return upf_resolve_mapping(hs ? hs->h : NULL, hs ? hs->len : NULL,
							   hs ? hs->n : 0, rq, columns, pb, max);
}

static void
check_problem(const upf_mapping_problem *p, upf_mapping_problem_kind kind,
			  int field, int field2, int column, int column2)
{
	assert_int_equal(p->kind, kind);
	assert_int_equal(p->field, field);
	assert_int_equal(p->field2, field2);
	assert_int_equal(p->column, column);
	assert_int_equal(p->column2, column2);
}

/* ----------
 * Field table
 * ----------
 */

static void
test_field_table(void **state)
{
	static const char *const names[UPF_NFIELDS] = {
		"customer_name", "external_id", "email", "first_name", "family_name",
		"phone", "position", "is_main", "account_manager_email"
	};
	static const size_t max_chars[UPF_NFIELDS] = {
		255, 255, 254, 255, 255, 50, 255, 16, 254
	};
	static const char *const templates[UPF_NFIELDS] = {
		"Customer name", "Client ID (External Id)", "Contact email address",
		"First name", "Family name", "Phone number", "Position",
		"Main contact", "Account manager email"
	};

	(void) state;
	for (int f = 0; f < UPF_NFIELDS; f++)
	{
		assert_string_equal(upf_field_name((upf_field) f), names[f]);
		assert_int_equal(upf_field_by_name(names[f], strlen(names[f])), f);
		assert_int_equal(upf_field_max_chars((upf_field) f), max_chars[f]);
		assert_string_equal(upf_field_template_header((upf_field) f),
							templates[f]);
		assert_int_equal(upf_field_required((upf_field) f), f <= UPF_EMAIL);
		assert_non_null(upf_field_synonyms((upf_field) f));
	}

	/* out of range */
	assert_null(upf_field_name(UPF_NFIELDS));
	assert_null(upf_field_name((upf_field) -1));
	assert_false(upf_field_required(UPF_NFIELDS));
	assert_false(upf_field_required((upf_field) -1));
	assert_int_equal(upf_field_max_chars(UPF_NFIELDS), 0);
	assert_null(upf_field_template_header((upf_field) -1));
	assert_null(upf_field_synonyms(UPF_NFIELDS));

	/* by name: exact, case-sensitive, on the given length */
	assert_int_equal(upf_field_by_name("Email", 5), -1);
	assert_int_equal(upf_field_by_name("email", 4), -1);
	assert_int_equal(upf_field_by_name("emailx", 6), -1);
	assert_int_equal(upf_field_by_name("emailx", 5), UPF_EMAIL);
	assert_int_equal(upf_field_by_name("", 0), -1);
	assert_int_equal(upf_field_by_name(NULL, 0), -1);
	assert_int_equal(upf_field_by_name(LIT("email\0")), -1);
}

/* ----------
 * Normalization
 * ----------
 */

static void
test_normalize_ascii(void **state)
{
	(void) state;
	NORM("Customer name", "customer name");
	NORM("Client ID (External Id)", "client id external id");
	NORM("  E-MAIL  ", "e mail");
	NORM("first_name", "first name");
	NORM("account_manager_email", "account manager email");
	NORM("__a--b..c__", "a b c");
	NORM("Phone #1", "phone 1");
	NORM("\tLast\r\nName\v", "last name");
	NORM("ABC xyz 0189", "abc xyz 0189");
	NORM("", "");
	NORM("  ", "");
	NORM("-*-", "");
	/* control characters and NUL are separators */
	NORM("a\001b\177c", "a b c");
	NORM("a\0b", "a b");
}

static void
test_normalize_accents(void **state)
{
	(void) state;
	NORM("Prénom", "prenom");
	NORM("Téléphone", "telephone");
	NORM("Société", "societe");
	NORM("NOM DE LA SOCIÉTÉ", "nom de la societe");
	NORM("Numéro client", "numero client");
	NORM("Chargé de compte", "charge de compte");
	NORM("Intitulé du poste", "intitule du poste");
	NORM("àâäáãå èêëé îïìí ôöòóõø ùûüú ÿý ñ ç", "aaaaaa eeee iiii oooooo uuuu yy n c");
	NORM("ÀÂÄÁÃÅ ÈÊËÉ ÎÏÌÍ ÔÖÒÓÕØ ÙÛÜÚ ŸÝ Ñ Ç", "aaaaaa eeee iiii oooooo uuuu yy n c");
	NORM("Œuvre cœur", "oeuvre coeur");
	NORM("Æsir cæsar", "aesir caesar");
	NORM("Straße", "strasse");
	NORM("Ðð Þþ", "dd thth");
	NORM("Łódź Kraków", "lodz krakow");
	NORM("Dvořák Šťastný", "dvorak stastny");
	NORM("İı Ĳĳ ſ ĸ ŉ Ŋŋ", "ii ijij s k n nn");
	NORM("Ğğ Ħħ Ĵĵ Ŵŵ Ŷŷ Żż Ţţ Ĕĕ", "gg hh jj ww yy zz tt ee");
	/* Latin-1 symbols are separators, but ª º ¹ ² ³ are letters/digits */
	NORM("N° client", "n client");
	NORM("Nº client", "no client");
	NORM("1ª 2³ x² ¹", "1a 23 x2 1");
	NORM("a×b÷c", "a b c");
	NORM("«Nom»", "nom");
	NORM("¿Qué? ¡Sí!", "que si");
	NORM("a·b§c", "a b c");
	/* µ has no ASCII form: kept */
	NORM("µm", "µm");
	/* C1 controls are separators */
	NORM("a\xc2\x85" "b", "a b");
}

static void
test_normalize_separators(void **state)
{
	(void) state;
	NORM("  E-MAIL\xc2\xa0", "e mail");
	NORM("\xef\xbb\xbf" "Customer name", "customer name");
	NORM("Customer\xef\xbb\xbfname", "customer name");
	NORM("Customer\xc2\xa0name", "customer name");
	NORM("Customer\xe2\x80\xafname", "customer name");
	NORM("Customer\xe2\x80\x87name", "customer name");
	NORM("Customer\xe3\x80\x80name", "customer name");
	NORM("Nom de l\xe2\x80\x99" "entreprise", "nom de l entreprise");
	NORM("a\xe2\x80\x93" "b\xe2\x80\x94" "c", "a b c");
	NORM("\xc2\xa0\xe2\x80\xaf \xef\xbb\xbf", "");
	NORM("  a  \xc2\xa0 - b  ", "a b");
}

static void
test_normalize_other_scripts(void **state)
{
	(void) state;
	/* kept as they are, case included */
	NORM("顧客 名", "顧客 名");
	NORM("Имя Клиента", "Имя Клиента");
	NORM("Ǎǎ", "Ǎǎ");				/* Latin Extended-B: not folded */
	NORM("\xf0\x9f\x98\x80 Email", "\xf0\x9f\x98\x80 email");
	NORM("日本,語", "日本 語");
}

static void
test_normalize_malformed(void **state)
{
	(void) state;
	/* every ill-formed byte is a separator: never read out of bounds */
	NORM("a\x80" "b", "a b");
	NORM("a\xff" "b", "a b");
	NORM("a\xc3", "a");
	NORM("\xc3" "a", "a");
	NORM("a\xe9" "b", "a b");	/* Latin-1 é, not UTF-8 */
	NORM("a\xc0\xaf" "b", "a b");	/* overlong */
	NORM("a\xc1\xbf" "b", "a b");	/* overlong */
	NORM("a\xe0\x80\xaf" "b", "a b");	/* overlong */
	NORM("a\xed\xa0\x80" "b", "a b");	/* surrogate */
	NORM("a\xf0\x80\x80\xaf" "b", "a b");	/* overlong */
	NORM("a\xf4\x90\x80\x80" "b", "a b");	/* above U+10FFFF */
	NORM("a\xf5\x80\x80\x80" "b", "a b");
	NORM("a\xe2\x80", "a");
	NORM("a\xf0\x9f\x98", "a");
	NORM("a\xe2\x28\xa1" "b", "a b");	/* bad continuation */
	NORM("a\xe2\x80\x28" "b", "a b");
	NORM("a\xf0\x9f\x28\x80" "b", "a b");
	NORM("a\xf0\x28\x80\x80" "b", "a b");
	NORM("a\xf0\x9f\x98\x28" "b", "a b");

	/* only part of the buffer is given: the rest is never looked at */
	{
		char		buf[8];
		const char	in[] = "ab\xc3\xa9";

		assert_int_equal(upf_normalize_header(in, 3, buf, sizeof(buf)), 2);
		assert_string_equal(buf, "ab");
	}
}

static void
test_normalize_truncation(void **state)
{
	char		buf[16];
	char		big[300];

	(void) state;

	/* like snprintf: the full length is returned */
	memset(buf, 'z', sizeof(buf));
	assert_int_equal(upf_normalize_header(LIT("Customer name"), buf, 5), 13);
	assert_string_equal(buf, "cust");
	assert_int_equal(buf[5], 'z');

	/* exact fit */
	assert_int_equal(upf_normalize_header(LIT("Abc"), buf, 4), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(upf_normalize_header(LIT("Abcd"), buf, 4), 4);
	assert_string_equal(buf, "abc");

	/* outsize 1: just the NUL; outsize 0: nothing, out may be NULL */
	buf[0] = 'z';
	assert_int_equal(upf_normalize_header(LIT("Abc"), buf, 1), 3);
	assert_string_equal(buf, "");
	assert_int_equal(upf_normalize_header(LIT("Abc"), NULL, 0), 3);

	/* a multi-byte character that does not fit is left out whole */
	assert_int_equal(upf_normalize_header(LIT("ab日本"), buf, 4), 8);
	assert_string_equal(buf, "ab");
	assert_int_equal(upf_normalize_header(LIT("ab日本"), buf, 5), 8);
	assert_string_equal(buf, "ab");
	assert_int_equal(upf_normalize_header(LIT("ab日本"), buf, 6), 8);
	assert_string_equal(buf, "ab日");
	assert_int_equal(upf_normalize_header(LIT("a\xf0\x9f\x98\x80"), buf, 5), 5);
	assert_string_equal(buf, "a");
	assert_int_equal(upf_normalize_header(LIT("a\xf0\x9f\x98\x80"), buf, 6), 5);
	assert_string_equal(buf, "a\xf0\x9f\x98\x80");
	assert_int_equal(upf_normalize_header(LIT("a\xf0\x9f\x98\x80" "b"), buf, 6), 6);
	assert_string_equal(buf, "a\xf0\x9f\x98\x80");
	assert_int_equal(upf_normalize_header(LIT("aЯ"), buf, 3), 3);
	assert_string_equal(buf, "a");
	assert_int_equal(upf_normalize_header(LIT("日本"), buf, 3), 6);
	assert_string_equal(buf, "");

	/* a two-letter fold cut in the middle (plain ASCII, byte cut) */
	assert_int_equal(upf_normalize_header(LIT("Œ"), buf, 2), 2);
	assert_string_equal(buf, "o");

	/* NULL input */
	assert_int_equal(upf_normalize_header(NULL, 0, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");

	/* long input */
	memset(big, 'A', sizeof(big));
	assert_int_equal(upf_normalize_header(big, sizeof(big), buf, sizeof(buf)),
					 sizeof(big));
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
}

/* ----------
 * Header recognition
 * ----------
 */

static void
test_synonym_table(void **state)
{
	const char *seen[512];
	int			nseen = 0;

	(void) state;
	for (int f = 0; f < UPF_NFIELDS; f++)
	{
		const char *const *syn = upf_field_synonyms((upf_field) f);
		char		buf[256];
		size_t		n;

		/* the SQL name and the template header, normalized, are synonyms */
		n = upf_normalize_header(upf_field_name((upf_field) f),
								 strlen(upf_field_name((upf_field) f)),
								 buf, sizeof(buf));
		assert_true(n > 0 && n < sizeof(buf));
		assert_int_equal(match(buf), f);
		assert_int_equal(match(upf_field_name((upf_field) f)), f);
		assert_int_equal(match(upf_field_template_header((upf_field) f)), f);

		for (; *syn != NULL; syn++)
		{
			/* stored normalized, short enough for the match buffer */
			n = upf_normalize_header(*syn, strlen(*syn), buf, sizeof(buf));
			assert_true(n > 0 && n < sizeof(buf));
			assert_string_equal(buf, *syn);
			assert_int_equal(match(*syn), f);

			/* in one field only, once */
			for (int i = 0; i < nseen; i++)
				if (strcmp(seen[i], *syn) == 0)
					fail_msg("synonym \"%s\" appears twice", *syn);
			assert_true(nseen < 512);
			seen[nseen++] = *syn;
		}
	}
	/* the lists the brief asks for, at least */
	assert_true(nseen >= 100);
	assert_int_equal(match("external id"), UPF_EXTERNAL_ID);
	assert_int_equal(match("is main"), UPF_IS_MAIN);
	assert_int_equal(match("account manager email"), UPF_ACCOUNT_MANAGER_EMAIL);
	assert_int_equal(match("family name"), UPF_FAMILY_NAME);
}

static void
test_match_english(void **state)
{
	(void) state;
	assert_int_equal(match("Customer name"), UPF_CUSTOMER_NAME);
	assert_int_equal(match("Client ID (External Id)"), UPF_EXTERNAL_ID);
	assert_int_equal(match("Contact email address"), UPF_EMAIL);
	assert_int_equal(match("First name"), UPF_FIRST_NAME);
	assert_int_equal(match("Family name"), UPF_FAMILY_NAME);
	assert_int_equal(match("Phone number"), UPF_PHONE);
	assert_int_equal(match("Position"), UPF_POSITION);
	assert_int_equal(match("Main contact"), UPF_IS_MAIN);
	assert_int_equal(match("Account manager email"), UPF_ACCOUNT_MANAGER_EMAIL);

	assert_int_equal(match("COMPANY"), UPF_CUSTOMER_NAME);
	assert_int_equal(match("Client ID"), UPF_EXTERNAL_ID);
	assert_int_equal(match("E-mail address"), UPF_EMAIL);
	assert_int_equal(match("Last Name"), UPF_FAMILY_NAME);
	assert_int_equal(match("Job title"), UPF_POSITION);
	assert_int_equal(match("is_main"), UPF_IS_MAIN);
	assert_int_equal(match("Account Owner"), UPF_ACCOUNT_MANAGER_EMAIL);
	assert_int_equal(match("\xef\xbb\xbf" "Customer name"), UPF_CUSTOMER_NAME);
}

static void
test_match_french(void **state)
{
	(void) state;
	assert_int_equal(match("Nom du client"), UPF_CUSTOMER_NAME);
	assert_int_equal(match("Raison sociale"), UPF_CUSTOMER_NAME);
	assert_int_equal(match("Société"), UPF_CUSTOMER_NAME);
	assert_int_equal(match("Nom de l’entreprise"), UPF_CUSTOMER_NAME);
	assert_int_equal(match("Identifiant client"), UPF_EXTERNAL_ID);
	assert_int_equal(match("N° client"), UPF_EXTERNAL_ID);
	assert_int_equal(match("Numéro de compte"), UPF_EXTERNAL_ID);
	assert_int_equal(match("Adresse e-mail"), UPF_EMAIL);
	assert_int_equal(match("Courriel"), UPF_EMAIL);
	assert_int_equal(match("  E-MAIL\xc2\xa0"), UPF_EMAIL);
	assert_int_equal(match("Prénom"), UPF_FIRST_NAME);
	assert_int_equal(match("PRÉNOM"), UPF_FIRST_NAME);
	assert_int_equal(match("Nom"), UPF_FAMILY_NAME);
	assert_int_equal(match("Nom de famille"), UPF_FAMILY_NAME);
	assert_int_equal(match("Téléphone"), UPF_PHONE);
	assert_int_equal(match("Numéro de téléphone"), UPF_PHONE);
	assert_int_equal(match("Tél."), UPF_PHONE);
	assert_int_equal(match("Poste"), UPF_POSITION);
	assert_int_equal(match("Fonction"), UPF_POSITION);
	assert_int_equal(match("Contact principal"), UPF_IS_MAIN);
	assert_int_equal(match("Chargé de compte"), UPF_ACCOUNT_MANAGER_EMAIL);
	assert_int_equal(match("E-mail du responsable de compte"),
					 UPF_ACCOUNT_MANAGER_EMAIL);
	assert_int_equal(match("Email du responsable de compte"),
					 UPF_ACCOUNT_MANAGER_EMAIL);
}

static upf_language
language_of(const char *csv_header)
{
	const char *headers[16];
	size_t		lengths[16];
	int			n = 0;
	const char *start = csv_header;

	for (const char *c = csv_header;; c++)
	{
		if (*c == ';' || *c == '\0')
		{
			assert_true(n < 16);
			headers[n] = start;
			lengths[n++] = (size_t) (c - start);
			start = c + 1;
			if (*c == '\0')
				break;
		}
	}
	return upf_headers_language(headers, lengths, n);
}

static void
test_labels_and_language(void **state)
{
	(void) state;
	/* every field has two labels, neither its SQL name */
	for (int f = 0; f < UPF_NFIELDS; f++)
	{
		const char *en = upf_field_label((upf_field) f, UPF_LANGUAGE_ENGLISH);
		const char *fr = upf_field_label((upf_field) f, UPF_LANGUAGE_FRENCH);

		assert_non_null(en);
		assert_non_null(fr);
		assert_string_not_equal(en, upf_field_name((upf_field) f));
		/* a label read back as a header is its own field */
		assert_int_equal(match(en), f);
		assert_int_equal(match(fr), f);
	}
	assert_null(upf_field_label(UPF_NFIELDS, UPF_LANGUAGE_ENGLISH));
	assert_string_equal(upf_field_label(UPF_IS_MAIN, UPF_LANGUAGE_ENGLISH), "Main contact");
	assert_string_equal(upf_field_label(UPF_IS_MAIN, UPF_LANGUAGE_FRENCH), "Contact principal");

	/*
	 * The French-only synonyms are each field's last ones: its French
	 * label is one of them, its SQL name and template header are not.
	 */
	for (int f = 0; f < UPF_NFIELDS; f++)
	{
		const char *const *syn = upf_field_synonyms((upf_field) f);
		bool		french_seen = false;
		char		label_key[256];
		char		template_key[256];

		upf_normalize_header(upf_field_label((upf_field) f, UPF_LANGUAGE_FRENCH),
							 strlen(upf_field_label((upf_field) f, UPF_LANGUAGE_FRENCH)),
							 label_key, sizeof(label_key));
		upf_normalize_header(upf_field_template_header((upf_field) f),
							 strlen(upf_field_template_header((upf_field) f)),
							 template_key, sizeof(template_key));
		for (int k = 0; syn[k] != NULL; k++)
		{
			bool		french = upf_synonym_is_french((upf_field) f, k);

			/* English first, then French: never back */
			assert_true(french || !french_seen);
			french_seen |= french;
			if (strcmp(syn[k], label_key) == 0)
				assert_true(french);
			if (strcmp(syn[k], template_key) == 0 || strcmp(syn[k], upf_field_name((upf_field) f)) == 0)
				assert_false(french);
		}
		assert_true(french_seen);
	}
	assert_false(upf_synonym_is_french(UPF_NFIELDS, 0));
	assert_true(upf_synonym_is_french(UPF_FIRST_NAME, 4));	/* "prenom" */
	assert_false(upf_synonym_is_french(UPF_FIRST_NAME, 3));
	/* the words both languages use are English synonyms */
	for (const char *const *syn = upf_neutral_synonyms(); *syn != NULL; syn++)
	{
		int			f = match(*syn);
		int			k = 0;

		assert_true(f >= 0);
		while (strcmp(upf_field_synonyms((upf_field) f)[k], *syn) != 0)
			k++;
		assert_false(upf_synonym_is_french((upf_field) f, k));
	}

	assert_int_equal(language_of("Société;ID client;Courriel;Prénom;Nom;Téléphone;Contact principal"),
					 UPF_LANGUAGE_FRENCH);
	assert_int_equal(language_of("Customer name;Client ID (External Id);Contact email address;Main contact"),
					 UPF_LANGUAGE_ENGLISH);
	/* words both languages write do not count; French wins only by number */
	assert_int_equal(language_of("Client;Email;Prénom;Nom;Mobile"), UPF_LANGUAGE_FRENCH);
	assert_int_equal(language_of("Client;Email;Mobile"), UPF_LANGUAGE_ENGLISH);
	assert_int_equal(language_of("Company;Client ID;Email;Prénom"), UPF_LANGUAGE_ENGLISH);
	assert_int_equal(language_of("Société;Client ID;Email;Prénom"), UPF_LANGUAGE_FRENCH);
	/* headers that are no synonym do not count */
	assert_int_equal(language_of("Adresse de facturation;Pays;Company"), UPF_LANGUAGE_ENGLISH);
	assert_int_equal(upf_headers_language(NULL, NULL, 0), UPF_LANGUAGE_ENGLISH);
}

static void
test_match_none(void **state)
{
	char		big[400];

	(void) state;
	assert_int_equal(match(""), -1);
	assert_int_equal(match("   "), -1);
	assert_int_equal(match("Adresse"), -1);
	assert_int_equal(match("Contact"), -1);
	assert_int_equal(match("Customer name 2"), -1);
	assert_int_equal(match("name"), -1);
	assert_int_equal(match("顧客"), -1);
	assert_int_equal(upf_match_header(NULL, 0), -1);
	/* exact on the whole name, whatever the spacing */
	assert_int_equal(match("nom  du   client"), UPF_CUSTOMER_NAME);
	assert_int_equal(match("nomduclient"), -1);
	/* the length given is what counts */
	assert_int_equal(upf_match_header("Emailing", 5), UPF_EMAIL);
	/* long, but short once normalized */
	memset(big, ' ', sizeof(big));
	memcpy(big + 150, "E-mail", 6);
	assert_int_equal(upf_match_header(big, sizeof(big)), UPF_EMAIL);
	/* too long to be a synonym */
	memset(big, 'a', sizeof(big));
	assert_int_equal(upf_match_header(big, sizeof(big)), -1);
	assert_int_equal(upf_match_header(big, 255), -1);
}

/* ----------
 * Mapping
 * ----------
 */

static void
test_mapping_auto_template(void **state)
{
	upf_mapping_request rq[UPF_NFIELDS];
	int			cols[UPF_NFIELDS];
	upf_mapping_problem pb[4];
	header_set	hs;

	(void) state;
	HEADERS(&hs, "Customer name", "Client ID (External Id)",
			"Contact email address", "First name", "Family name",
			"Phone number", "Position", "Main contact",
			"Account manager email");
	auto_requests(rq);
	assert_int_equal(resolve(&hs, rq, cols, pb, 4), 0);
	for (int f = 0; f < UPF_NFIELDS; f++)
		assert_int_equal(cols[f], f);
}

static void
test_mapping_auto_french(void **state)
{
	upf_mapping_request rq[UPF_NFIELDS];
	int			cols[UPF_NFIELDS];
	upf_mapping_problem pb[4];
	header_set	hs;

	(void) state;
	HEADERS(&hs, "Courriel", "Prénom", "Nom", "Remarques", "Nom du client",
			"Téléphone", "N° client", "Contact principal");
	auto_requests(rq);
	assert_int_equal(resolve(&hs, rq, cols, pb, 4), 0);
	assert_int_equal(cols[UPF_CUSTOMER_NAME], 4);
	assert_int_equal(cols[UPF_EXTERNAL_ID], 6);
	assert_int_equal(cols[UPF_EMAIL], 0);
	assert_int_equal(cols[UPF_FIRST_NAME], 1);
	assert_int_equal(cols[UPF_FAMILY_NAME], 2);
	assert_int_equal(cols[UPF_PHONE], 5);
	assert_int_equal(cols[UPF_POSITION], -1);
	assert_int_equal(cols[UPF_IS_MAIN], 7);
	assert_int_equal(cols[UPF_ACCOUNT_MANAGER_EMAIL], -1);
}

static void
test_mapping_required_unmapped(void **state)
{
	upf_mapping_request rq[UPF_NFIELDS];
	int			cols[UPF_NFIELDS];
	upf_mapping_problem pb[4];
	header_set	hs;

	(void) state;
	HEADERS(&hs, "Company", "Phone", "Client ID");
	auto_requests(rq);
	assert_int_equal(resolve(&hs, rq, cols, pb, 4), 1);
	check_problem(&pb[0], UPF_MP_REQUIRED_UNMAPPED, UPF_EMAIL, -1, -1, -1);
	assert_int_equal(cols[UPF_CUSTOMER_NAME], 0);
	assert_int_equal(cols[UPF_EXTERNAL_ID], 2);
	assert_int_equal(cols[UPF_PHONE], 1);

	/* an explicit null on a required field */
	rq[UPF_CUSTOMER_NAME].kind = UPF_MAP_IGNORE;
	assert_int_equal(resolve(&hs, rq, cols, pb, 4), 2);
	check_problem(&pb[0], UPF_MP_REQUIRED_UNMAPPED, UPF_CUSTOMER_NAME, -1, -1, -1);
	check_problem(&pb[1], UPF_MP_REQUIRED_UNMAPPED, UPF_EMAIL, -1, -1, -1);
	assert_int_equal(cols[UPF_CUSTOMER_NAME], -1);

	/* an explicit null on an optional field: fine, and not recognized */
	auto_requests(rq);
	req_column(rq, UPF_EMAIL, 2);
	rq[UPF_PHONE].kind = UPF_MAP_IGNORE;
	assert_int_equal(resolve(&hs, rq, cols, pb, 4), 0);
	assert_int_equal(cols[UPF_PHONE], -1);
	assert_int_equal(cols[UPF_EMAIL], 1);

	/* an unknown request kind maps nothing */
	rq[UPF_EMAIL].kind = (upf_mapping_kind) 42;
	assert_int_equal(resolve(&hs, rq, cols, pb, 4), 1);
	check_problem(&pb[0], UPF_MP_REQUIRED_UNMAPPED, UPF_EMAIL, -1, -1, -1);
}

static void
test_mapping_header(void **state)
{
	upf_mapping_request rq[UPF_NFIELDS];
	int			cols[UPF_NFIELDS];
	upf_mapping_problem pb[4];
	header_set	hs;

	(void) state;
	HEADERS(&hs, "Société", "Réf.", "Mél", "TÉLÉPHONE  portable", "Notes");
	auto_requests(rq);
	/* case-, accent-, punctuation- and space-insensitive */
	req_header(rq, UPF_CUSTOMER_NAME, "societe");
	req_header(rq, UPF_EXTERNAL_ID, " ref ");
	req_header(rq, UPF_EMAIL, "MEL");
	req_header(rq, UPF_PHONE, "Téléphone\xc2\xa0portable");
	assert_int_equal(resolve(&hs, rq, cols, pb, 4), 0);
	assert_int_equal(cols[UPF_CUSTOMER_NAME], 0);
	assert_int_equal(cols[UPF_EXTERNAL_ID], 1);
	assert_int_equal(cols[UPF_EMAIL], 2);
	assert_int_equal(cols[UPF_PHONE], 3);
	assert_int_equal(cols[UPF_POSITION], -1);

	/* a name that is not there: no extra REQUIRED_UNMAPPED */
	req_header(rq, UPF_EMAIL, "Email");
	assert_int_equal(resolve(&hs, rq, cols, pb, 4), 1);
	check_problem(&pb[0], UPF_MP_HEADER_NOT_FOUND, UPF_EMAIL, -1, -1, -1);
	assert_int_equal(cols[UPF_EMAIL], -1);

	/* an optional field's header not found */
	req_header(rq, UPF_EMAIL, "MEL");
	req_header(rq, UPF_POSITION, "Poste");
	assert_int_equal(resolve(&hs, rq, cols, pb, 4), 1);
	check_problem(&pb[0], UPF_MP_HEADER_NOT_FOUND, UPF_POSITION, -1, -1, -1);

	/* the length given is what counts */
	rq[UPF_POSITION].kind = UPF_MAP_AUTO;
	rq[UPF_EMAIL].header = "Mélange";
	rq[UPF_EMAIL].header_len = strlen("Mél");
	assert_int_equal(resolve(&hs, rq, cols, pb, 4), 0);
	assert_int_equal(cols[UPF_EMAIL], 2);
}

static void
test_mapping_header_ambiguous(void **state)
{
	upf_mapping_request rq[UPF_NFIELDS];
	int			cols[UPF_NFIELDS];
	upf_mapping_problem pb[4];
	header_set	hs;

	(void) state;
	HEADERS(&hs, "Customer", "ID", "E-mail", "Email", "e mail", "E_Mail");
	auto_requests(rq);
	req_column(rq, UPF_EXTERNAL_ID, 2);
	req_header(rq, UPF_EMAIL, "E MAIL");
	assert_int_equal(resolve(&hs, rq, cols, pb, 4), 1);
	/* the first two of the three */
	check_problem(&pb[0], UPF_MP_HEADER_AMBIGUOUS, UPF_EMAIL, -1, 2, 4);
	assert_int_equal(cols[UPF_EMAIL], -1);
	assert_int_equal(cols[UPF_CUSTOMER_NAME], 0);
}

static void
test_mapping_column(void **state)
{
	upf_mapping_request rq[UPF_NFIELDS];
	int			cols[UPF_NFIELDS];
	upf_mapping_problem pb[8];
	header_set	hs;

	(void) state;
	HEADERS(&hs, "a", "b", "c");
	auto_requests(rq);
	req_column(rq, UPF_CUSTOMER_NAME, 1);
	req_column(rq, UPF_EXTERNAL_ID, 2);
	req_column(rq, UPF_EMAIL, 3);
	assert_int_equal(resolve(&hs, rq, cols, pb, 8), 0);
	assert_int_equal(cols[UPF_CUSTOMER_NAME], 0);
	assert_int_equal(cols[UPF_EXTERNAL_ID], 1);
	assert_int_equal(cols[UPF_EMAIL], 2);

	req_column(rq, UPF_CUSTOMER_NAME, 0);
	req_column(rq, UPF_EXTERNAL_ID, 4);
	req_column(rq, UPF_EMAIL, -1);
	req_column(rq, UPF_PHONE, LONG_MAX);
	req_column(rq, UPF_POSITION, LONG_MIN);
	assert_int_equal(resolve(&hs, rq, cols, pb, 8), 5);
	check_problem(&pb[0], UPF_MP_COLUMN_OUT_OF_RANGE, UPF_CUSTOMER_NAME, -1, -1, -1);
	check_problem(&pb[1], UPF_MP_COLUMN_OUT_OF_RANGE, UPF_EXTERNAL_ID, -1, -1, -1);
	check_problem(&pb[2], UPF_MP_COLUMN_OUT_OF_RANGE, UPF_EMAIL, -1, -1, -1);
	check_problem(&pb[3], UPF_MP_COLUMN_OUT_OF_RANGE, UPF_PHONE, -1, -1, -1);
	check_problem(&pb[4], UPF_MP_COLUMN_OUT_OF_RANGE, UPF_POSITION, -1, -1, -1);
	for (int f = 0; f < UPF_NFIELDS; f++)
		assert_int_equal(cols[f], -1);
}

static void
test_mapping_claimed_twice(void **state)
{
	upf_mapping_request rq[UPF_NFIELDS];
	int			cols[UPF_NFIELDS];
	upf_mapping_problem pb[8];
	header_set	hs;

	(void) state;
	HEADERS(&hs, "Customer name", "Client ID", "Email", "Name");
	auto_requests(rq);
	/* by number and by name on the same column */
	req_column(rq, UPF_FIRST_NAME, 4);
	req_header(rq, UPF_FAMILY_NAME, "name");
	assert_int_equal(resolve(&hs, rq, cols, pb, 8), 1);
	check_problem(&pb[0], UPF_MP_COLUMN_CLAIMED_TWICE, UPF_FIRST_NAME,
				  UPF_FAMILY_NAME, 3, -1);

	/* three fields on one column: reported against the first, twice */
	req_column(rq, UPF_POSITION, 4);
	assert_int_equal(resolve(&hs, rq, cols, pb, 8), 2);
	check_problem(&pb[0], UPF_MP_COLUMN_CLAIMED_TWICE, UPF_FIRST_NAME,
				  UPF_FAMILY_NAME, 3, -1);
	check_problem(&pb[1], UPF_MP_COLUMN_CLAIMED_TWICE, UPF_FIRST_NAME,
				  UPF_POSITION, 3, -1);

	/* an explicit request on a column a recognized field would take */
	auto_requests(rq);
	req_header(rq, UPF_PHONE, "Email");
	req_column(rq, UPF_POSITION, 3);
	assert_int_equal(resolve(&hs, rq, cols, pb, 8), 2);
	check_problem(&pb[0], UPF_MP_REQUIRED_UNMAPPED, UPF_EMAIL, -1, -1, -1);
	check_problem(&pb[1], UPF_MP_COLUMN_CLAIMED_TWICE, UPF_PHONE,
				  UPF_POSITION, 2, -1);
}

static void
test_mapping_auto_ambiguous(void **state)
{
	upf_mapping_request rq[UPF_NFIELDS];
	int			cols[UPF_NFIELDS];
	upf_mapping_problem pb[8];
	header_set	hs;

	(void) state;
	HEADERS(&hs, "Company", "Client", "Email", "ID client", "Tel", "Mobile",
			"Phone");
	auto_requests(rq);
	assert_int_equal(resolve(&hs, rq, cols, pb, 8), 2);
	/* a required field found twice is not also "unmapped" */
	check_problem(&pb[0], UPF_MP_AUTO_AMBIGUOUS, UPF_CUSTOMER_NAME, -1, 0, 1);
	check_problem(&pb[1], UPF_MP_AUTO_AMBIGUOUS, UPF_PHONE, -1, 4, 5);
	assert_int_equal(cols[UPF_CUSTOMER_NAME], -1);
	assert_int_equal(cols[UPF_PHONE], -1);
	assert_int_equal(cols[UPF_EXTERNAL_ID], 3);
	assert_int_equal(cols[UPF_EMAIL], 2);

	/*
	 * Explicit requests take columns recognition would have matched, which
	 * leaves one candidate.
	 */
	req_header(rq, UPF_EXTERNAL_ID, "Client");
	req_column(rq, UPF_POSITION, 6);
	rq[UPF_FIRST_NAME].kind = UPF_MAP_IGNORE;
	req_header(rq, UPF_FAMILY_NAME, "Phone");
	assert_int_equal(resolve(&hs, rq, cols, pb, 8), 0);
	assert_int_equal(cols[UPF_CUSTOMER_NAME], 0);
	assert_int_equal(cols[UPF_EXTERNAL_ID], 1);
	assert_int_equal(cols[UPF_EMAIL], 2);
	assert_int_equal(cols[UPF_PHONE], 4);
	assert_int_equal(cols[UPF_POSITION], 5);
	assert_int_equal(cols[UPF_FAMILY_NAME], 6);
	assert_int_equal(cols[UPF_FIRST_NAME], -1);
}

static void
test_mapping_no_header_line(void **state)
{
	upf_mapping_request rq[UPF_NFIELDS];
	int			cols[UPF_NFIELDS];
	upf_mapping_problem pb[8];
	header_set	hs;

	(void) state;
	auto_requests(rq);
	/* without a header line nothing is recognized */
	assert_int_equal(upf_resolve_mapping(NULL, NULL, 4, rq, cols, pb, 8), 3);
	check_problem(&pb[0], UPF_MP_REQUIRED_UNMAPPED, UPF_CUSTOMER_NAME, -1, -1, -1);
	check_problem(&pb[1], UPF_MP_REQUIRED_UNMAPPED, UPF_EXTERNAL_ID, -1, -1, -1);
	check_problem(&pb[2], UPF_MP_REQUIRED_UNMAPPED, UPF_EMAIL, -1, -1, -1);

	/* column numbers checked against the first record's field count */
	req_column(rq, UPF_CUSTOMER_NAME, 1);
	req_column(rq, UPF_EXTERNAL_ID, 2);
	req_column(rq, UPF_EMAIL, 4);
	req_column(rq, UPF_PHONE, 5);
	req_header(rq, UPF_POSITION, "Position");
	assert_int_equal(upf_resolve_mapping(NULL, NULL, 4, rq, cols, pb, 8), 2);
	check_problem(&pb[0], UPF_MP_COLUMN_OUT_OF_RANGE, UPF_PHONE, -1, -1, -1);
	check_problem(&pb[1], UPF_MP_NO_HEADER_LINE, UPF_POSITION, -1, -1, -1);
	assert_int_equal(cols[UPF_CUSTOMER_NAME], 0);
	assert_int_equal(cols[UPF_EXTERNAL_ID], 1);
	assert_int_equal(cols[UPF_EMAIL], 3);

	/* a required field by name */
	rq[UPF_PHONE].kind = UPF_MAP_AUTO;
	rq[UPF_POSITION].kind = UPF_MAP_AUTO;
	req_header(rq, UPF_EMAIL, "Email");
	assert_int_equal(upf_resolve_mapping(NULL, NULL, 4, rq, cols, pb, 8), 1);
	check_problem(&pb[0], UPF_MP_NO_HEADER_LINE, UPF_EMAIL, -1, -1, -1);

	/* an empty header record behaves like any other */
	HEADERS(&hs, "");
	hs.n = 0;
	auto_requests(rq);
	req_column(rq, UPF_EMAIL, 1);
	assert_int_equal(resolve(&hs, rq, cols, pb, 8), 3);
	check_problem(&pb[2], UPF_MP_COLUMN_OUT_OF_RANGE, UPF_EMAIL, -1, -1, -1);

	/* a negative count is no column at all */
	assert_int_equal(upf_resolve_mapping(NULL, NULL, -3, rq, cols, pb, 8), 3);
	check_problem(&pb[2], UPF_MP_COLUMN_OUT_OF_RANGE, UPF_EMAIL, -1, -1, -1);
}

static void
test_mapping_problem_order_and_limit(void **state)
{
	upf_mapping_request rq[UPF_NFIELDS];
	int			cols[UPF_NFIELDS];
	upf_mapping_problem pb[8];
	upf_mapping_problem big[16];
	header_set	hs;
	int			n;

	(void) state;
	HEADERS(&hs, "Tel", "Phone", "Foo", "Foo", "Bar");
	auto_requests(rq);
	req_header(rq, UPF_FIRST_NAME, "foo");
	req_column(rq, UPF_ACCOUNT_MANAGER_EMAIL, 9);
	req_header(rq, UPF_POSITION, "bar");
	req_column(rq, UPF_EMAIL, 5);
	req_header(rq, UPF_IS_MAIN, "baz");

	n = resolve(&hs, rq, cols, big, 16);
	assert_int_equal(n, 7);
	check_problem(&big[0], UPF_MP_REQUIRED_UNMAPPED, UPF_CUSTOMER_NAME, -1, -1, -1);
	check_problem(&big[1], UPF_MP_REQUIRED_UNMAPPED, UPF_EXTERNAL_ID, -1, -1, -1);
	check_problem(&big[2], UPF_MP_COLUMN_CLAIMED_TWICE, UPF_EMAIL, UPF_POSITION, 4, -1);
	check_problem(&big[3], UPF_MP_HEADER_AMBIGUOUS, UPF_FIRST_NAME, -1, 2, 3);
	check_problem(&big[4], UPF_MP_AUTO_AMBIGUOUS, UPF_PHONE, -1, 0, 1);
	check_problem(&big[5], UPF_MP_HEADER_NOT_FOUND, UPF_IS_MAIN, -1, -1, -1);
	check_problem(&big[6], UPF_MP_COLUMN_OUT_OF_RANGE, UPF_ACCOUNT_MANAGER_EMAIL, -1, -1, -1);

	/* fewer slots: the first ones are written, the count is the same */
	memset(pb, 0x5a, sizeof(pb));
	assert_int_equal(resolve(&hs, rq, cols, pb, 2), 7);
	assert_memory_equal(pb, big, 2 * sizeof(pb[0]));
	assert_int_equal(pb[2].kind, 0x5a5a5a5a);

	/* no slot at all */
	assert_int_equal(resolve(&hs, rq, cols, NULL, 0), 7);
	assert_int_equal(resolve(&hs, rq, cols, NULL, 5), 7);

	/* the same call gives the same answer */
	assert_int_equal(resolve(&hs, rq, cols, pb, 8), 7);
	assert_memory_equal(pb, big, 7 * sizeof(pb[0]));
}

/* ----------
 * Values
 * ----------
 */

static void
test_clean_value(void **state)
{
	size_t		len = 99;

	(void) state;
	CLEAN("abc", "abc");
	CLEAN("  abc  ", "abc");
	CLEAN("\tabc\t", "abc");
	CLEAN("\r\nabc\r\n", "abc");
	CLEAN("\xc2\xa0" "abc\xc2\xa0", "abc");
	CLEAN("\xe2\x80\xaf" "abc\xe2\x80\xaf", "abc");
	CLEAN("\xef\xbb\xbf" "abc\xef\xbb\xbf", "abc");
	CLEAN(" \t\xc2\xa0\xe2\x80\xaf\xef\xbb\xbf\r\n a b \n\r\xef\xbb\xbf\xe2\x80\xaf\xc2\xa0\t ",
		  "a b");
	CLEAN("a \xc2\xa0 b", "a \xc2\xa0 b");
	CLEAN("", "");
	CLEAN("   ", "");
	CLEAN("\xc2\xa0\xc2\xa0", "");

	/* near misses are not trimmed */
	CLEAN("\xc2\xa1" "a\xc3\xa0", "\xc2\xa1" "a\xc3\xa0");
	CLEAN("\xe2\x80\xae" "a\xe2\x80\xa0", "\xe2\x80\xae" "a\xe2\x80\xa0");
	CLEAN("\xe2\x81\xaf" "a\xe2\x81\xaf", "\xe2\x81\xaf" "a\xe2\x81\xaf");
	CLEAN("\xef\xbb\xbe" "a\xef\xbc\xbf", "\xef\xbb\xbe" "a\xef\xbc\xbf");
	CLEAN("\xef\xbc\xbf" "a\xee\xbb\xbf", "\xef\xbc\xbf" "a\xee\xbb\xbf");
	CLEAN("\xc2", "\xc2");
	CLEAN("\xe2\x80", "\xe2\x80");
	CLEAN("\xef\xbb", "\xef\xbb");
	CLEAN("\xa0", "\xa0");
	CLEAN("\x80\xaf", "\x80\xaf");
	CLEAN("\xbb\xbf", "\xbb\xbf");
	CLEAN("x\xc3\xa0", "x\xc3\xa0");
	CLEAN("x\xe2\x81\xaf", "x\xe2\x81\xaf");
	CLEAN("x\xe3\x80\xaf", "x\xe3\x80\xaf");
	CLEAN("x\xef\xbc\xbf", "x\xef\xbc\xbf");

	/* the spreadsheet mark */
	CLEAN("'=1+2", "=1+2");
	CLEAN("'+33 1 23 45 67 89", "+33 1 23 45 67 89");
	CLEAN("'-5", "-5");
	CLEAN("'@x", "@x");
	CLEAN("  '@x  ", "@x");
	CLEAN("'\t=1", "=1");
	CLEAN("'\r@x", "@x");
	CLEAN("\xc2\xa0'=A1 \xc2\xa0", "=A1");
	CLEAN("'abc", "'abc");
	CLEAN("'", "'");
	CLEAN("''=1", "''=1");
	CLEAN("' =1", "' =1");
	CLEAN("'\n=1", "'\n=1");
	CLEAN("a'=1", "a'=1");
	CLEAN("'=", "=");
	CLEAN("'\t", "'");
	/* full-width = + - @ (U+FF1D U+FF0B U+FF0D U+FF20) */
	CLEAN("'\xef\xbc\x9d" "1", "\xef\xbc\x9d" "1");
	CLEAN("'\xef\xbc\x8b" "1", "\xef\xbc\x8b" "1");
	CLEAN("'\xef\xbc\x8d" "1", "\xef\xbc\x8d" "1");
	CLEAN("'\xef\xbc\xa0" "x", "\xef\xbc\xa0" "x");
	CLEAN("'\xef\xbc\xbf" "x", "'\xef\xbc\xbf" "x");
	CLEAN("'\xef\xbc", "'\xef\xbc");
	/* a mark uncovered by taking off a mark before a tab or CR comes off too */
	CLEAN("'\r'=", "=");
	CLEAN("'\t '@x", "@x");
	CLEAN("'\t'abc", "'abc");
	/* only one mark comes off */
	CLEAN("''", "''");
	CLEAN("'-'=x", "-'=x");

	/* an empty value at NULL */
	assert_null(upf_clean_value(NULL, 0, &len));
	assert_int_equal(len, 0);
}

static void
test_starts_like_formula(void **state)
{
	(void) state;
	assert_true(upf_starts_like_formula(LIT("=SUM(1)")));
	assert_true(upf_starts_like_formula(LIT("+33 1 23")));
	assert_true(upf_starts_like_formula(LIT("-5")));
	assert_true(upf_starts_like_formula(LIT("@cmd")));
	assert_true(upf_starts_like_formula(LIT("\tx")));
	assert_true(upf_starts_like_formula(LIT("\rx")));
	assert_true(upf_starts_like_formula(LIT("\xef\xbc\x9d" "1")));
	assert_true(upf_starts_like_formula(LIT("\xef\xbc\x8b" "1")));
	assert_true(upf_starts_like_formula(LIT("\xef\xbc\x8d" "1")));
	assert_true(upf_starts_like_formula(LIT("\xef\xbc\xa0" "x")));
	assert_false(upf_starts_like_formula(LIT("")));
	assert_false(upf_starts_like_formula(LIT("abc=1")));
	assert_false(upf_starts_like_formula(LIT("'=1")));
	assert_false(upf_starts_like_formula(LIT(" =1")));
	assert_false(upf_starts_like_formula(LIT("\xef\xbc\xbf" "x")));
	assert_false(upf_starts_like_formula(LIT("\xef\xbc")));
	/* every value it marks loses exactly that mark on import */
	{
		size_t		n;
		const char *v = upf_clean_value(LIT("'\xef\xbc\x9d" "1"), &n);

		assert_int_equal(n, 4);
		assert_memory_equal(v, "\xef\xbc\x9d" "1", 4);
	}
}

static void
test_utf8_chars(void **state)
{
	(void) state;
	assert_int_equal(upf_utf8_chars(LIT("")), 0);
	assert_int_equal(upf_utf8_chars(NULL, 0), 0);
	assert_int_equal(upf_utf8_chars(LIT("abc")), 3);
	assert_int_equal(upf_utf8_chars(LIT("Prénom")), 6);
	assert_int_equal(upf_utf8_chars(LIT("日本語")), 3);
	assert_int_equal(upf_utf8_chars(LIT("\xf0\x9f\x98\x80!")), 2);
	assert_int_equal(upf_utf8_chars(LIT("a\0b")), 3);
	assert_int_equal(upf_utf8_chars("日本語", 3), 1);
}

static void
test_email_valid(void **state)
{
	static const char *const ok[] = {
		"john.doe@example.com",
		"a@b.co",
		"JOHN@EXAMPLE.COM",
		"x+tag@sub.domain.example.org",
		"o'brien@example.ie",
		"!#$%&'*+/=?^_`{|}~-@example.com",
		"user-name@my-domain.fr",
		"a.b.c@x-1.y2.io",
		"12345@123.example.com",
		"user@xn--bcher-kva.example",
		"josé@exemple.fr",
		"用户@例子.广告",
		"δοκιμή@παράδειγμα.δοκιμή",
		"u@d.c1",
		"u@1a.com",
		"u@d.\xc3\xa9t",
		"u@d.1-a",
	};

	(void) state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (email(ok[i]) != UPF_EMAIL_OK)
			fail_msg("\"%s\" rejected: %s", ok[i],
					 upf_email_problem_text(email(ok[i])));
}

static void
test_email_invalid(void **state)
{
	char		buf[400];

	(void) state;
	/* spaces come first, wherever they are */
	assert_int_equal(email("john doe@example.com"), UPF_EMAIL_SPACE);
	assert_int_equal(email("john@example.com "), UPF_EMAIL_SPACE);
	assert_int_equal(email("john\t@example.com"), UPF_EMAIL_SPACE);
	assert_int_equal(email("john@exa\nmple.com"), UPF_EMAIL_SPACE);
	assert_int_equal(email("john@exa\vmple.com"), UPF_EMAIL_SPACE);
	assert_int_equal(email("john@exa\fmple.com"), UPF_EMAIL_SPACE);
	assert_int_equal(email("john@exa\rmple.com"), UPF_EMAIL_SPACE);
	assert_int_equal(email("john\xc2\xa0" "doe@example.com"), UPF_EMAIL_SPACE);
	assert_int_equal(email("john\xe2\x80\xaf" "doe@example.com"), UPF_EMAIL_SPACE);
	assert_int_equal(email("john\xe2\x80\x87" "doe@example.com"), UPF_EMAIL_SPACE);
	assert_int_equal(email("john\xe2\x80\x80" "doe@example.com"), UPF_EMAIL_SPACE);
	assert_int_equal(email("john\xe2\x80\x8a" "doe@example.com"), UPF_EMAIL_SPACE);
	assert_int_equal(email("john\xe2\x81\x9f" "doe@example.com"), UPF_EMAIL_SPACE);
	assert_int_equal(email("john\xe3\x80\x80" "doe@example.com"), UPF_EMAIL_SPACE);
	assert_int_equal(email("john\xe1\x9a\x80" "doe@example.com"), UPF_EMAIL_SPACE);
	assert_int_equal(email("a b"), UPF_EMAIL_SPACE);
	/* near misses of spaces are ordinary (UTF-8) bytes */
	assert_int_equal(email("jo\xc2\xa1@example.com"), UPF_EMAIL_OK);
	assert_int_equal(email("jo\xe1\x9a\x81@example.com"), UPF_EMAIL_OK);
	assert_int_equal(email("jo\xe1\x9b\x80@example.com"), UPF_EMAIL_OK);
	assert_int_equal(email("jo\xe2\x80\x8b@example.com"), UPF_EMAIL_OK);
	assert_int_equal(email("jo\xe2\x81\x9e@example.com"), UPF_EMAIL_OK);
	assert_int_equal(email("jo\xe2\x82\x80@example.com"), UPF_EMAIL_OK);
	assert_int_equal(email("jo\xe3\x80\x81@example.com"), UPF_EMAIL_OK);
	assert_int_equal(email("jo\xe3\x81\x80@example.com"), UPF_EMAIL_OK);
	assert_int_equal(email("jo@example.com\xc2"), UPF_EMAIL_OK);
	assert_int_equal(email("jo@example.com\xe2\x80"), UPF_EMAIL_OK);
	assert_int_equal(upf_check_email("jo@example.com\xe1\x9a\x80", 16), UPF_EMAIL_OK);
	assert_int_equal(upf_check_email("jo@example.com\xe3\x80\x80", 16), UPF_EMAIL_OK);

	assert_int_equal(email("john.example.com"), UPF_EMAIL_NO_AT);
	assert_int_equal(email(""), UPF_EMAIL_NO_AT);
	assert_int_equal(email("john@doe@example.com"), UPF_EMAIL_SEVERAL_AT);
	assert_int_equal(email("@@"), UPF_EMAIL_SEVERAL_AT);
	assert_int_equal(email("@example.com"), UPF_EMAIL_EMPTY_LOCAL);
	assert_int_equal(email("@"), UPF_EMAIL_EMPTY_LOCAL);

	assert_int_equal(email(".john@example.com"), UPF_EMAIL_BAD_LOCAL);
	assert_int_equal(email("john.@example.com"), UPF_EMAIL_BAD_LOCAL);
	assert_int_equal(email("jo..hn@example.com"), UPF_EMAIL_BAD_LOCAL);
	assert_int_equal(email("."), UPF_EMAIL_NO_AT);
	assert_int_equal(email(".@x.com"), UPF_EMAIL_BAD_LOCAL);
	assert_int_equal(email("jo(hn)@example.com"), UPF_EMAIL_BAD_LOCAL);
	assert_int_equal(email("jo,hn@example.com"), UPF_EMAIL_BAD_LOCAL);
	assert_int_equal(email("\"john\"@example.com"), UPF_EMAIL_BAD_LOCAL);
	assert_int_equal(email("jo<hn@example.com"), UPF_EMAIL_BAD_LOCAL);
	assert_int_equal(email("jo;hn@example.com"), UPF_EMAIL_BAD_LOCAL);
	assert_int_equal(email("jo\\hn@example.com"), UPF_EMAIL_BAD_LOCAL);
	assert_int_equal(email("jo\x01hn@example.com"), UPF_EMAIL_BAD_LOCAL);
	assert_int_equal(upf_check_email(LIT("jo\0hn@example.com")), UPF_EMAIL_BAD_LOCAL);

	assert_int_equal(email("john@"), UPF_EMAIL_BAD_DOMAIN);
	assert_int_equal(email("john@example"), UPF_EMAIL_BAD_DOMAIN);
	assert_int_equal(email("john@.example.com"), UPF_EMAIL_BAD_DOMAIN);
	assert_int_equal(email("john@example.com."), UPF_EMAIL_BAD_DOMAIN);
	assert_int_equal(email("john@example..com"), UPF_EMAIL_BAD_DOMAIN);
	assert_int_equal(email("john@-example.com"), UPF_EMAIL_BAD_DOMAIN);
	assert_int_equal(email("john@example-.com"), UPF_EMAIL_BAD_DOMAIN);
	assert_int_equal(email("john@example.-com"), UPF_EMAIL_BAD_DOMAIN);
	assert_int_equal(email("john@exa_mple.com"), UPF_EMAIL_BAD_DOMAIN);
	assert_int_equal(email("john@example.c"), UPF_EMAIL_BAD_DOMAIN);
	assert_int_equal(email("john@example.\xc3\xa9"), UPF_EMAIL_BAD_DOMAIN);
	assert_int_equal(email("john@192.168.0.1"), UPF_EMAIL_BAD_DOMAIN);
	assert_int_equal(email("john@10.0.0.12"), UPF_EMAIL_BAD_DOMAIN);
	assert_int_equal(email("john@[192.168.0.1]"), UPF_EMAIL_BAD_DOMAIN);
	assert_int_equal(email("john@example.com>"), UPF_EMAIL_BAD_DOMAIN);
	assert_int_equal(email("john@example,com"), UPF_EMAIL_BAD_DOMAIN);

	/* labels: 63 bytes is the most */
	memset(buf, 0, sizeof(buf));
	strcpy(buf, "a@");
	memset(buf + 2, 'b', 63);
	strcpy(buf + 65, ".com");
	assert_int_equal(email(buf), UPF_EMAIL_OK);
	memset(buf + 2, 'b', 64);
	strcpy(buf + 66, ".com");
	assert_int_equal(email(buf), UPF_EMAIL_BAD_DOMAIN);

	/* local part: 64 bytes is the most */
	memset(buf, 0, sizeof(buf));
	memset(buf, 'a', 64);
	strcpy(buf + 64, "@example.com");
	assert_int_equal(email(buf), UPF_EMAIL_OK);
	memset(buf, 'a', 65);
	strcpy(buf + 65, "@example.com");
	assert_int_equal(email(buf), UPF_EMAIL_TOO_LONG);

	/* the whole: 254 bytes is the most */
	memset(buf, 0, sizeof(buf));
	strcpy(buf, "a@");
	for (int i = 0; i < 4; i++)
	{
		memset(buf + 2 + i * 62, 'b', 61);
		buf[2 + i * 62 + 61] = '.';
	}
	/* 2 + 248 = 250 bytes so far */
	strcpy(buf + 250, "info");
	assert_int_equal(strlen(buf), 254);
	assert_int_equal(email(buf), UPF_EMAIL_OK);
	strcpy(buf + 250, "infos");
	assert_int_equal(email(buf), UPF_EMAIL_TOO_LONG);
	/* a bad character in a long address: the length is said first */
	buf[0] = '(';
	assert_int_equal(email(buf), UPF_EMAIL_TOO_LONG);
}

static void
test_email_texts(void **state)
{
	(void) state;
	assert_string_equal(upf_email_problem_text(UPF_EMAIL_NO_AT),
						"it has no @ sign");
	assert_string_equal(upf_email_problem_text(UPF_EMAIL_SEVERAL_AT),
						"it has more than one @ sign");
	assert_string_equal(upf_email_problem_text(UPF_EMAIL_EMPTY_LOCAL),
						"nothing comes before the @ sign");
	assert_string_equal(upf_email_problem_text(UPF_EMAIL_BAD_LOCAL),
						"the part before the @ sign has a forbidden character or a misplaced dot");
	assert_string_equal(upf_email_problem_text(UPF_EMAIL_BAD_DOMAIN),
						"the domain after the @ sign is not like name.com");
	assert_string_equal(upf_email_problem_text(UPF_EMAIL_SPACE),
						"it contains a space");
	assert_string_equal(upf_email_problem_text(UPF_EMAIL_TOO_LONG),
						"it is longer than 254 characters or its part before the @ sign is longer than 64");
	assert_string_equal(upf_email_problem_text(UPF_EMAIL_OK), "it is valid");
	assert_string_equal(upf_email_problem_text((upf_email_problem) 99),
						"it is not valid");
}

static void
test_phone_valid(void **state)
{
	static const char *const ok[] = {
		"+33 1 23 45 67 89",
		"01.23.45.67.89",
		"0123456789",
		"(555) 123-4567",
		"(555) 123-4567 ext 12",
		"(555) 123-4567 ext. 12",
		"(555) 123-4567 EXT.12",
		"555-123-4567x123",
		"555-123-4567 X 123456",
		"01 23 45 67 89 poste 123",
		"01 23 45 67 89 Poste\xc2\xa0" "12",
		"01 23 45 67 89 #12",
		"01 23 45 67 89#1",
		"+44 (0)20 7946 0958",
		"(+33) 1 23 45 67 89",
		"06/12/34/56/78",
		"01\xc2\xa0" "23\xc2\xa0" "45\xc2\xa0" "67\xc2\xa0" "89",
		"01\xe2\x80\xaf" "23\xe2\x80\xaf" "45\xe2\x80\xaf" "67\xe2\x80\xaf" "89",
		"123456",
		"12345678901234567890",
		"12345678901234567890 ext 123456",
	};

	(void) state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (phone(ok[i]) != UPF_PHONE_OK)
			fail_msg("\"%s\" rejected: %s", ok[i],
					 upf_phone_problem_text(phone(ok[i])));
}

static void
test_phone_invalid(void **state)
{
	(void) state;
	assert_int_equal(phone("+1-800-FLOWERS"), UPF_PHONE_BAD_CHARACTER);
	assert_int_equal(phone("01 23 45 67 89 a"), UPF_PHONE_BAD_CHARACTER);
	assert_int_equal(phone("01_23_45_67_89"), UPF_PHONE_BAD_CHARACTER);
	assert_int_equal(phone("01,23,45,67,89"), UPF_PHONE_BAD_CHARACTER);
	assert_int_equal(phone("01\t23456789"), UPF_PHONE_BAD_CHARACTER);
	assert_int_equal(phone("0123456789 ext"), UPF_PHONE_BAD_CHARACTER);
	assert_int_equal(phone("0123456789 ext 1234567"), UPF_PHONE_BAD_CHARACTER);
	assert_int_equal(phone("0123456789 next 12"), UPF_PHONE_BAD_CHARACTER);
	assert_int_equal(phone("0123456789 ext ext 12"), UPF_PHONE_BAD_CHARACTER);
	assert_int_equal(phone("0123456789 y 12"), UPF_PHONE_BAD_CHARACTER);
	assert_int_equal(phone("0123456789 12x"), UPF_PHONE_BAD_CHARACTER);
	assert_int_equal(phone("０１２３４５６７８９"), UPF_PHONE_BAD_CHARACTER);
	assert_int_equal(phone("0123456789\xc2"), UPF_PHONE_BAD_CHARACTER);
	assert_int_equal(phone("0123456789\xc2\xa1"), UPF_PHONE_BAD_CHARACTER);
	assert_int_equal(phone("0123456789\xe2\x80"), UPF_PHONE_BAD_CHARACTER);
	assert_int_equal(phone("0123456789\xe2\x81\xaf"), UPF_PHONE_BAD_CHARACTER);
	assert_int_equal(phone("0123456789\xe2\x80\xae"), UPF_PHONE_BAD_CHARACTER);
	assert_int_equal(phone("0123456789 x\xc2\xa1" "12"), UPF_PHONE_BAD_CHARACTER);
	assert_int_equal(upf_check_phone(LIT("01234\0" "56789")), UPF_PHONE_BAD_CHARACTER);

	assert_int_equal(phone("1+2345678"), UPF_PHONE_MISPLACED_PLUS);
	assert_int_equal(phone("++33 1 23 45 67 89"), UPF_PHONE_MISPLACED_PLUS);
	assert_int_equal(phone("0123456789+"), UPF_PHONE_MISPLACED_PLUS);
	/* the first problem from the left */
	assert_int_equal(phone("1+2 a"), UPF_PHONE_MISPLACED_PLUS);
	assert_int_equal(phone("a 1+2"), UPF_PHONE_BAD_CHARACTER);

	assert_int_equal(phone("12 34"), UPF_PHONE_TOO_FEW_DIGITS);
	assert_int_equal(phone("12345"), UPF_PHONE_TOO_FEW_DIGITS);
	assert_int_equal(phone("+"), UPF_PHONE_TOO_FEW_DIGITS);
	assert_int_equal(phone("(-)"), UPF_PHONE_TOO_FEW_DIGITS);
	assert_int_equal(phone(""), UPF_PHONE_TOO_FEW_DIGITS);
	/* extension digits do not count */
	assert_int_equal(phone("12345 ext 123456"), UPF_PHONE_TOO_FEW_DIGITS);
	assert_int_equal(phone("x123456"), UPF_PHONE_TOO_FEW_DIGITS);
	assert_int_equal(phone("#12"), UPF_PHONE_TOO_FEW_DIGITS);

	assert_int_equal(phone("123456789012345678901"), UPF_PHONE_TOO_MANY_DIGITS);
	assert_int_equal(phone("+1 234 567 890 123 456 789 012"), UPF_PHONE_TOO_MANY_DIGITS);
}

static void
test_phone_texts(void **state)
{
	(void) state;
	assert_string_equal(upf_phone_problem_text(UPF_PHONE_BAD_CHARACTER),
						"it contains a letter or a symbol that is not + ( ) . - / or a space");
	assert_string_equal(upf_phone_problem_text(UPF_PHONE_MISPLACED_PLUS),
						"the + sign can only come first");
	assert_string_equal(upf_phone_problem_text(UPF_PHONE_TOO_FEW_DIGITS),
						"it has fewer than 6 digits");
	assert_string_equal(upf_phone_problem_text(UPF_PHONE_TOO_MANY_DIGITS),
						"it has more than 20 digits");
	assert_string_equal(upf_phone_problem_text(UPF_PHONE_OK), "it is valid");
	assert_string_equal(upf_phone_problem_text((upf_phone_problem) -1),
						"it is not valid");
}

static void
test_flags(void **state)
{
	static const char *const yes[] = {
		"1", "true", "yes", "oui", "x", "vrai", "y", "o",
		"TRUE", "Yes", "OUI", "X", "Vrai", "Y", "O"
	};
	static const char *const no[] = {
		"0", "false", "no", "non", "faux", "n",
		"FALSE", "No", "NON", "Faux", "N"
	};
	static const char *const bad[] = {
		"2", "-1", "truee", "tru", "ja", "si", "nope", "yes!", "01", "1.0",
		"oui.", "falses", "vraiment", "t", "f", "Ouí", "ＯＵＩ", " 1", "on",
		"off", "é"
	};

	(void) state;
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		assert_int_equal(flag(yes[i]), UPF_FLAG_TRUE);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_int_equal(flag(no[i]), UPF_FLAG_FALSE);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (flag(bad[i]) != UPF_FLAG_INVALID)
			fail_msg("\"%s\" accepted", bad[i]);
	assert_int_equal(flag(""), UPF_FLAG_UNSET);
	assert_int_equal(upf_parse_flag(NULL, 0), UPF_FLAG_UNSET);
	/* the length given is what counts; NULs are data */
	assert_int_equal(upf_parse_flag("yes", 1), UPF_FLAG_TRUE);
	assert_int_equal(upf_parse_flag(LIT("1\0")), UPF_FLAG_INVALID);
	assert_int_equal(upf_parse_flag(LIT("no\0")), UPF_FLAG_INVALID);
}

/* Invisible format characters in keys and emails: found, with their place. */
static void
test_find_invisible(void **state)
{
	uint32_t	cp = 0;
	size_t		at = 0;

	(void) state;
	assert_int_equal(upf_find_invisible(LIT("anne@acme.fr"), &cp, &at), -1);
	assert_int_equal(upf_find_invisible(LIT("Société Générale"), &cp, &at), -1);
	/* zero-width space inside an email: byte 4, character 5 */
	assert_int_equal(upf_find_invisible(LIT("anne\xE2\x80\x8B@acme.fr"), &cp, &at), 4);
	assert_int_equal(cp, 0x200B);
	assert_int_equal(at, 5);
	/* after a two-byte character: the character count, not the bytes */
	assert_int_equal(upf_find_invisible(LIT("\xC3\xA9\xE2\x80\xAE" "1"), &cp, &at), 2);
	assert_int_equal(cp, 0x202E);
	assert_int_equal(at, 2);
	/* soft hyphen, word joiner, BOM, a tag character */
	assert_int_equal(upf_find_invisible(LIT("C\xC2\xAD" "1"), &cp, NULL), 1);
	assert_int_equal(cp, 0x00AD);
	assert_int_equal(upf_find_invisible(LIT("C1\xE2\x81\xA0"), &cp, NULL), 2);
	assert_int_equal(cp, 0x2060);
	assert_int_equal(upf_find_invisible(LIT("\xEF\xBB\xBF" "C1"), &cp, NULL), 0);
	assert_int_equal(cp, 0xFEFF);
	assert_int_equal(upf_find_invisible(LIT("C\xF3\xA0\x80\x81"), &cp, NULL), 1);
	assert_int_equal(cp, 0xE0001);
	/* visible non-ASCII neighbours of the ranges are not flagged */
	assert_int_equal(upf_find_invisible(LIT("\xE2\x80\x90\xE2\x80\xAF\xE2\x81\xB0"), NULL, NULL), -1);
	/* truncated UTF-8 is not read past the end */
	assert_int_equal(upf_find_invisible(LIT("C1\xE2\x80"), NULL, NULL), -1);
}

/* Title rows, report footers and multi-valued client IDs. */
static void
test_report_rows(void **state)
{
	const char *title[] = {"Export des contacts - 01/12/2026", "", " ", ""};
	const char *empty[] = {"", "", ""};
	const char *header[] = {"Customer name", "", "Email"};
	const size_t title_len[] = {32, 0, 1, 0};
	const size_t empty_len[] = {0, 0, 0};
	const size_t header_len[] = {13, 0, 5};

	(void) state;
	assert_true(upf_is_title_row(title, title_len, 4));
	assert_true(upf_is_title_row(empty, empty_len, 3));
	assert_true(upf_is_title_row(title, title_len, 1));
	assert_false(upf_is_title_row(header, header_len, 3));

	assert_true(upf_is_report_footer(LIT("Grand Totals (3 records)")));
	assert_true(upf_is_report_footer(LIT("  grand totals (1 record)")));
	assert_true(upf_is_report_footer(LIT("Copyright (c) 2000-2026 salesforce.com, inc. All rights reserved.")));
	assert_true(upf_is_report_footer(LIT("Copyright \xC2\xA9 2026 salesforce.com")));
	assert_true(upf_is_report_footer(LIT("Confidential Information - Do Not Distribute")));
	assert_true(upf_is_report_footer(LIT("Generated By: Claire Martin 01/12/2026 10:04")));
	assert_false(upf_is_report_footer(LIT("Grand")));
	assert_false(upf_is_report_footer(LIT("Totals Grand")));
	assert_false(upf_is_report_footer(LIT("Acme SA")));
	assert_false(upf_is_report_footer(LIT("")));

	assert_true(upf_is_multiple_id(LIT("9002;9003")));
	assert_true(upf_is_multiple_id(LIT(" 9002 ; 9003 ")));
	assert_false(upf_is_multiple_id(LIT("CUST-0001")));
	assert_false(upf_is_multiple_id(LIT("9002, rue de Paris")));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_field_table),
		cmocka_unit_test(test_labels_and_language),
		cmocka_unit_test(test_normalize_ascii),
		cmocka_unit_test(test_normalize_accents),
		cmocka_unit_test(test_normalize_separators),
		cmocka_unit_test(test_normalize_other_scripts),
		cmocka_unit_test(test_normalize_malformed),
		cmocka_unit_test(test_normalize_truncation),
		cmocka_unit_test(test_synonym_table),
		cmocka_unit_test(test_match_english),
		cmocka_unit_test(test_match_french),
		cmocka_unit_test(test_match_none),
		cmocka_unit_test(test_mapping_auto_template),
		cmocka_unit_test(test_mapping_auto_french),
		cmocka_unit_test(test_mapping_required_unmapped),
		cmocka_unit_test(test_mapping_header),
		cmocka_unit_test(test_mapping_header_ambiguous),
		cmocka_unit_test(test_mapping_column),
		cmocka_unit_test(test_mapping_claimed_twice),
		cmocka_unit_test(test_mapping_auto_ambiguous),
		cmocka_unit_test(test_mapping_no_header_line),
		cmocka_unit_test(test_mapping_problem_order_and_limit),
		cmocka_unit_test(test_clean_value),
		cmocka_unit_test(test_starts_like_formula),
		cmocka_unit_test(test_utf8_chars),
		cmocka_unit_test(test_email_valid),
		cmocka_unit_test(test_email_invalid),
		cmocka_unit_test(test_email_texts),
		cmocka_unit_test(test_phone_valid),
		cmocka_unit_test(test_phone_invalid),
		cmocka_unit_test(test_phone_texts),
		cmocka_unit_test(test_flags),
		cmocka_unit_test(test_find_invisible),
		cmocka_unit_test(test_report_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
