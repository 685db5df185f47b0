package tts

import (
	"fmt"
	"strings"
)

// gender is the voice gender asked for by a <Say> voice.
type gender byte

const (
	male   gender = 'm'
	female gender = 'f'
)

// variant is the espeak-ng voice variant appended for a gender.
func (g gender) variant() string {
	if g == female {
		return "+f3"
	}
	return "+m3"
}

// Defaults when nothing else is known (Twilio: voice "man", language en-US).
const (
	defaultLocale = "en-us"
	defaultGender = male
)

// pollyVoice is what a Polly voice name implies.
type pollyVoice struct {
	locale string // lowercase BCP-47
	gender gender
}

// pollyVoices maps lowercase Amazon Polly voice names (Twilio's
// "Polly.<Name>") to their locale and gender.
var pollyVoices = func() map[string]pollyVoice {
	m := map[string]pollyVoice{}
	add := func(locale string, g gender, names ...string) {
		for _, n := range names {
			m[strings.ToLower(n)] = pollyVoice{locale, g}
		}
	}
	add("en-us", female, "Joanna", "Salli", "Kendra", "Kimberly", "Ivy", "Danielle", "Ruth")
	add("en-us", male, "Matthew", "Joey", "Justin", "Kevin", "Gregory", "Stephen")
	add("en-gb", female, "Amy", "Emma")
	add("en-gb", male, "Brian", "Arthur")
	add("en-au", female, "Nicole", "Olivia")
	add("en-au", male, "Russell")
	add("en-in", female, "Raveena", "Aditi", "Kajal")
	add("en-gb-wls", male, "Geraint")
	add("cy-gb", female, "Gwyneth")
	add("en-ie", female, "Niamh")
	add("fr-fr", female, "Celine", "Céline", "Lea", "Léa")
	add("fr-fr", male, "Mathieu", "Remi", "Rémi")
	add("fr-ca", female, "Chantal", "Gabrielle")
	add("fr-ca", male, "Liam")
	add("de-de", female, "Marlene", "Vicki")
	add("de-de", male, "Hans", "Daniel")
	add("de-at", female, "Hannah")
	add("es-es", female, "Conchita", "Lucia", "Lucía")
	add("es-es", male, "Enrique", "Sergio")
	add("es-mx", female, "Mia")
	add("es-mx", male, "Andres", "Andrés")
	add("es-us", female, "Penelope", "Penélope", "Lupe")
	add("es-us", male, "Miguel", "Pedro")
	add("it-it", female, "Carla", "Bianca")
	add("it-it", male, "Giorgio", "Adriano")
	add("ja-jp", female, "Mizuki", "Kazuha", "Tomoko")
	add("ja-jp", male, "Takumi")
	add("ko-kr", female, "Seoyeon")
	add("cmn-cn", female, "Zhiyu")
	add("yue-hk", female, "Hiujin")
	add("pt-br", female, "Camila", "Vitoria", "Vitória")
	add("pt-br", male, "Ricardo", "Thiago")
	add("pt-pt", female, "Ines", "Inês")
	add("pt-pt", male, "Cristiano")
	add("ru-ru", female, "Tatyana")
	add("ru-ru", male, "Maxim")
	add("nb-no", female, "Liv", "Ida")
	add("da-dk", female, "Naja", "Sofie")
	add("da-dk", male, "Mads")
	add("nl-nl", female, "Lotte", "Laura")
	add("nl-nl", male, "Ruben")
	add("nl-be", female, "Lisa")
	add("pl-pl", female, "Ewa", "Maja", "Ola")
	add("pl-pl", male, "Jacek", "Jan")
	add("sv-se", female, "Astrid", "Elin")
	add("fi-fi", female, "Suvi")
	add("tr-tr", female, "Filiz", "Burcu")
	add("ro-ro", female, "Carmen")
	add("is-is", female, "Dora", "Dóra")
	add("is-is", male, "Karl")
	add("arb", female, "Zeina")
	return m
}()

// localeVoices maps lowercase locales (and bare languages) to the espeak-ng
// voice that speaks them, where the name differs from the language code or
// espeak-ng has no voice for the exact region.
var localeVoices = map[string]string{
	"en": "en-us", "en-us": "en-us", "en-ca": "en-us",
	"en-gb": "en-gb", "en-au": "en-gb", "en-nz": "en-gb", "en-ie": "en-gb", "en-in": "en-gb",
	"en-za": "en-gb", "en-gb-wls": "en-gb", "en-gb-sct": "en-gb-scotland", "en-029": "en-029",
	"fr": "fr-fr", "fr-fr": "fr-fr", "fr-ca": "fr-fr", "fr-be": "fr-be", "fr-ch": "fr-ch",
	"es": "es", "es-es": "es", "es-mx": "es-419", "es-us": "es-419", "es-419": "es-419",
	"es-ar": "es-419", "es-co": "es-419", "es-cl": "es-419", "es-pe": "es-419",
	"pt": "pt", "pt-pt": "pt", "pt-br": "pt-br",
	"zh": "cmn", "zh-cn": "cmn", "zh-tw": "cmn", "cmn": "cmn", "cmn-cn": "cmn", "cmn-tw": "cmn",
	"zh-hk": "yue", "yue": "yue", "yue-hk": "yue",
	"arb": "ar", "no": "nb", "nn": "nb", "fil": "", "tl": "",
	"ru-lv": "ru-lv", "vi-vn": "vi",
}

// espeakLanguages are the language codes that are espeak-ng voice names
// (espeak-ng 1.51 `--voices`), so "xx" and "xx-YY" both map to "xx".
var espeakLanguages = func() map[string]bool {
	m := map[string]bool{}
	for _, l := range strings.Fields(`af am an ar as az ba be bg bn bpy bs ca cmn cs cv cy da de el
		eo es et eu fa fi ga gd gn grc gu hak haw he hi hr ht hu hy hyw ia id io is it ja jbo ka kk
		kl kn ko kok ku ky la lb lfn lt ltg lv mi mk ml mr ms mt my nb nci ne nl nog om or pa pap
		piqd pl pt py qdb qu quc qya ro ru sd shn si sjn sk sl smj sq sr sv sw ta te th tk tn tr
		tt ug uk ur uz vi yue`) {
		m[l] = true
	}
	return m
}()

// VoiceFor picks the espeak-ng voice for a <Say> voice and language
// (Twilio spec §6.2). The locale is the language attribute, else the one
// implied by a Polly. or Google. voice name, else en-US; the gender comes
// from man (male), woman/alice (female) or the Polly voice, else male.
// Configured Options.Voices win over the built-in table ("xx-yy/f", then
// "xx-yy", then the bare language). An unknown voice name or language never
// fails: it falls back (to the language's base voice, then en-US) and warn
// describes the substitution as a 13511 warning; warn is empty otherwise.
func (e *Engine) VoiceFor(voice, language string) (espeakVoice, warn string) {
	var warns []string
	locale, g, known := parseVoice(voice)
	if !known {
		warns = append(warns, fmt.Sprintf("unknown voice %q", voice))
	}
	if lang := normalizeLocale(language); lang != "" {
		if locale != "" && !sameLanguage(locale, lang) {
			warns = append(warns, fmt.Sprintf("voice %q speaks %s, not %s", voice, locale, lang))
		}
		locale = lang
	}
	if locale == "" {
		locale = defaultLocale
	}
	espeakVoice, ok := e.lookup(locale, g)
	if !ok {
		espeakVoice, _ = e.lookup(defaultLocale, g)
		warns = append(warns, fmt.Sprintf("no voice for language %q", locale))
	}
	if len(warns) > 0 {
		warn = fmt.Sprintf("13511 Say: invalid voice: %s; using espeak-ng voice %s", strings.Join(warns, "; "), espeakVoice)
	}
	return espeakVoice, warn
}

// lookup finds the voice for a locale: configuration first, then the
// built-in tables, for the full locale and then its language.
func (e *Engine) lookup(locale string, g gender) (string, bool) {
	for _, tag := range []string{locale, baseLanguage(locale)} {
		if v, ok := e.voices[tag+"/"+string(g)]; ok {
			return v, true
		}
		if v, ok := e.voices[tag]; ok {
			return v, true
		}
		if v, ok := localeVoices[tag]; ok {
			if v == "" {
				return "", false // a language espeak-ng cannot speak
			}
			return v + g.variant(), true
		}
		if espeakLanguages[tag] {
			return tag + g.variant(), true
		}
	}
	return "", false
}

// parseVoice returns the locale implied by a Twilio voice name (empty if
// none), its gender, and whether the name is known.
func parseVoice(voice string) (locale string, g gender, known bool) {
	voice = strings.TrimSpace(voice)
	lower := strings.ToLower(voice)
	switch {
	case lower == "" || lower == "man":
		return "", male, true
	case lower == "woman" || lower == "alice":
		return "", female, true
	case strings.HasPrefix(lower, "polly."):
		name := lower[len("polly."):]
		for _, suffix := range []string{"-neural", "-generative", "-longform"} {
			name = strings.TrimSuffix(name, suffix)
		}
		if p, ok := pollyVoices[name]; ok {
			return p.locale, p.gender, true
		}
		return "", defaultGender, false
	case strings.HasPrefix(lower, "google."):
		// Google.<ll>-<CC>-<Type>-<X>: the locale is the first two fields.
		parts := strings.SplitN(lower[len("google."):], "-", 3)
		if len(parts) == 3 && len(parts[0]) >= 2 && len(parts[1]) >= 2 {
			return parts[0] + "-" + parts[1], defaultGender, true
		}
		return "", defaultGender, false
	}
	return "", defaultGender, false
}

// normalizeLocale lowercases a BCP-47 tag and accepts '_' separators.
func normalizeLocale(tag string) string {
	return strings.ReplaceAll(strings.ToLower(strings.TrimSpace(tag)), "_", "-")
}

// baseLanguage returns the language subtag of a locale ("es" of "es-mx").
func baseLanguage(locale string) string {
	lang, _, _ := strings.Cut(locale, "-")
	return lang
}

// sameLanguage reports whether two locales share a language, counting the
// Chinese and Arabic macrolanguage spellings Twilio uses as equal.
func sameLanguage(a, b string) bool {
	canon := func(l string) string {
		switch l = baseLanguage(l); l {
		case "cmn", "yue":
			return "zh"
		case "arb":
			return "ar"
		}
		return l
	}
	return canon(a) == canon(b)
}
