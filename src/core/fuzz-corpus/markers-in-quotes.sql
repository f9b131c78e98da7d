SELECT '%(x)s', "%(y)s", `%(z)s` -- %(w)s
/* %(v) /* nested %(u)s */ */ %(a)s %% %(