/*
 * The release: printed by --version, reported by GET /health, named in the
 * man pages (the Makefile reads it from here). One number for the whole
 * engine, since the programs share the store's schema.
 */
#ifndef ENGINE_VERSION_H
#define ENGINE_VERSION_H

#define ENGINE_VERSION "1.1.0"

#endif
