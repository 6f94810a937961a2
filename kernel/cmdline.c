/* cmdline.c - the kernel's boot options are bare words: exit, fault, failtest. */
#include "cmdline.h"

static int is_space(char c)
{
    return c == ' ' || c == '\t';
}

/* Does the word starting at s equal word, ending at a space or the end? */
static int word_matches(const char *s, const char *word)
{
    while (*word && *s == *word)
        s++, word++;
    return !*word && (!*s || is_space(*s));
}

int cmdline_has(const char *cmdline, const char *word)
{
    const char *s = cmdline;

    while (*s) {
        while (is_space(*s))
            s++;
        if (*s && word_matches(s, word))
            return 1;
        while (*s && !is_space(*s))
            s++;
    }
    return 0;
}
