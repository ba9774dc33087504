/* Reads a libconfig file (ProxySQL's proxysql.cnf grammar) with libconfig itself and prints every
 * setting, one per line:  PATH TYPE VALUE
 *   PATH   root-relative: group members joined with ".", list/array elements as [i]
 *          (mysql_servers[0].address)
 *   TYPE   group | list | array | int | int64 | float | string | bool
 *   VALUE  containers: their length; strings: a JSON string; numbers and bools as JSON.
 * A file libconfig rejects prints "FILE:LINE: TEXT" on stderr and exits 1; a missing file exits 2.
 * Build: cc -o libconfig-dump libconfig-dump.c -lconfig */
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void print_json_string(const char *s) {
  putchar('"');
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    switch (*p) {
      case '"': fputs("\\\"", stdout); break;
      case '\\': fputs("\\\\", stdout); break;
      case '\n': fputs("\\n", stdout); break;
      case '\r': fputs("\\r", stdout); break;
      case '\t': fputs("\\t", stdout); break;
      default:
        if (*p < 0x20 || *p == 0x7f) printf("\\u%04x", *p);
        else putchar(*p); /* UTF-8 bytes pass through: valid JSON */
    }
  }
  putchar('"');
}

static void dump(const config_setting_t *s, const char *path) {
  char child[4096];
  int n;
  switch (config_setting_type(s)) {
    case CONFIG_TYPE_GROUP:
    case CONFIG_TYPE_LIST:
    case CONFIG_TYPE_ARRAY:
      n = config_setting_length(s);
      if (*path) {
        const char *kind = config_setting_is_group(s) ? "group" : config_setting_is_list(s) ? "list" : "array";
        printf("%s %s %d\n", path, kind, n);
      }
      for (int i = 0; i < n; i++) {
        const config_setting_t *e = config_setting_get_elem(s, (unsigned int)i);
        if (config_setting_is_group(s)) snprintf(child, sizeof child, "%s%s%s", path, *path ? "." : "", config_setting_name(e));
        else snprintf(child, sizeof child, "%s[%d]", path, i);
        dump(e, child);
      }
      break;
    case CONFIG_TYPE_INT:
      printf("%s int %d\n", path, config_setting_get_int(s));
      break;
    case CONFIG_TYPE_INT64:
      printf("%s int64 %lld\n", path, config_setting_get_int64(s));
      break;
    case CONFIG_TYPE_FLOAT:
      printf("%s float %.17g\n", path, config_setting_get_float(s));
      break;
    case CONFIG_TYPE_BOOL:
      printf("%s bool %s\n", path, config_setting_get_bool(s) ? "true" : "false");
      break;
    case CONFIG_TYPE_STRING:
      printf("%s string ", path);
      print_json_string(config_setting_get_string(s));
      putchar('\n');
      break;
    default:
      printf("%s none null\n", path);
  }
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s FILE\n", argv[0]);
    return 2;
  }
  config_t cfg;
  config_init(&cfg);
  if (config_read_file(&cfg, argv[1]) != CONFIG_TRUE) {
    if (config_error_type(&cfg) == CONFIG_ERR_FILE_IO) {
      fprintf(stderr, "%s: cannot read the file\n", argv[1]);
      config_destroy(&cfg);
      return 2;
    }
    fprintf(stderr, "%s:%d: %s\n", config_error_file(&cfg) ? config_error_file(&cfg) : argv[1], config_error_line(&cfg), config_error_text(&cfg));
    config_destroy(&cfg);
    return 1;
  }
  dump(config_root_setting(&cfg), "");
  config_destroy(&cfg);
  return 0;
}
