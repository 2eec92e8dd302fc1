/* The JSON DOM: freeing it and reading it. The parser is in json.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "io/json.h"

static void value_clear(json_value *v)
{
    free(v->string);
    for (size_t i = 0; i < v->count; i++) {
        value_clear(&v->items[i]);
        if (v->keys)
            free(v->keys[i]);
    }
    free(v->items);
    free(v->keys);
    memset(v, 0, sizeof *v);
}

void json_free(json_value *v)
{
    if (!v)
        return;
    value_clear(v);
    free(v);
}

json_type json_typeof(const json_value *v) { return v ? v->type : JSON_NULL; }

size_t json_count(const json_value *v)
{
    return (v && (v->type == JSON_ARRAY || v->type == JSON_OBJECT)) ? v->count : 0;
}

const json_value *json_at(const json_value *arr, size_t i)
{
    return i < json_count(arr) ? &arr->items[i] : NULL;
}

const char *json_key_at(const json_value *obj, size_t i)
{
    return (json_typeof(obj) == JSON_OBJECT && i < obj->count) ? obj->keys[i] : NULL;
}

const json_value *json_object_get(const json_value *obj, const char *key)
{
    if (json_typeof(obj) != JSON_OBJECT || !key)
        return NULL;
    for (size_t i = 0; i < obj->count; i++)
        if (strcmp(obj->keys[i], key) == 0)
            return &obj->items[i];
    return NULL;
}

double json_number(const json_value *v)
{
    return json_typeof(v) == JSON_NUMBER ? v->number : NAN;
}

const char *json_string(const json_value *v)
{
    return json_typeof(v) == JSON_STRING ? v->string : NULL;
}

int json_bool(const json_value *v) { return json_typeof(v) == JSON_BOOL && v->boolean; }

int json_get_int64(const json_value *v, int64_t *out)
{
    const double limit = 9007199254740992.0; /* 2^53 */
    if (json_typeof(v) != JSON_NUMBER || !v->integer || !(fabs(v->number) < limit))
        return 0;
    *out = (int64_t)v->number;
    return 1;
}
