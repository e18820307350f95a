/*
 * A compiled exec grader: brevity. The reply scores 1.0 up to 100 characters, then 100/length.
 *
 * rft writes the batch JSON with one sample per line inside the list, so each line is one complete
 * sample object. This program finds the "id" and the assistant's "content" string on each line,
 * decodes JSON escapes to count characters (UTF-8 code points), and prints the output list.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Returns a pointer just past the closing quote of the JSON string starting at s (s points at the
 * opening quote); counts decoded code points into *chars and copies raw bytes into out if given. */
static const char *scan_string(const char *s, size_t *chars, char *out, size_t cap) {
    size_t n = 0, o = 0;
    for (s++; *s && *s != '"'; s++) {
        if (*s == '\\') {
            s++;
            if (!*s) break;
            if (*s == 'u') { s += 4 < strlen(s) ? 4 : strlen(s) - 1; }
            n++;
        } else if (((unsigned char)*s & 0xC0) != 0x80) {
            n++;
        }
        if (out && o + 1 < cap) out[o++] = *s;
    }
    if (out) out[o] = 0;
    if (chars) *chars = n;
    return *s ? s + 1 : s;
}

int main(void) {
    size_t cap = 1 << 16;
    char *line = malloc(cap);
    int first = 1;
    if (!line) return 1;
    fputs("[", stdout);
    for (;;) {
        size_t len = 0;
        int c;
        while ((c = getchar()) != EOF && c != '\n') {
            if (len + 1 >= cap) { cap *= 2; line = realloc(line, cap); if (!line) return 1; }
            line[len++] = (char)c;
        }
        line[len] = 0;
        if (c == EOF && len == 0) break;
        const char *idp = strstr(line, "\"id\":\"");
        if (!idp) continue;
        char id[512];
        scan_string(idp + 5, NULL, id, sizeof id);
        const char *reply = NULL, *p = line;
        while ((p = strstr(p, "\"role\":\"assistant\",\"content\":\"")) != NULL) { reply = p; p++; }
        size_t chars = 0;
        if (reply) scan_string(reply + strlen("\"role\":\"assistant\",\"content\":"), &chars, NULL, 0);
        double score = chars <= 100 ? 1.0 : 100.0 / (double)chars;
        printf("%s{\"id\":\"%s\",\"aggregate_reward_score\":%.6f,\"metrics_list\":[{\"name\":\"chars\",\"value\":%zu,\"type\":\"Metric\"}]}",
               first ? "" : ",", id, score, chars);
        first = 0;
    }
    puts("]");
    free(line);
    return 0;
}
