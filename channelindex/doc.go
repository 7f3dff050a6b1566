// Package channelindex is everything channelgate knows about conda
// channels and PyPI indexes as files: it reads the metadata of package
// files (.conda, .tar.bz2, wheels, sdists), writes the indexes clients
// read (repodata.json and friends, channeldata.json, the PEP 503/691
// simple pages), and filters stored indexes per viewer.
//
// It imports neither Caddy nor net/http: the gateway (caddymodule)
// filters through it and the API (admin) publishes through it.
//
//   - Reading (read*.go): ReadCondaPackage and ReadPythonDist check a
//     file whole under explicit Limits and return its metadata, or an
//     *InvalidPackageError whose message is one line for the uploader.
//   - Writing (publish*.go, conda_*.go, repodata.go, channeldata.go,
//     simple.go): a Publisher adds, removes, copies and moves
//     files in a Storage and rewrites the indexes that list them, one
//     subdir (or project) at a time under a Locker.
//   - Filtering (filter*.go): pure functions from a stored index's bytes
//     to the bytes one viewer may see; filter.go holds the table of index
//     kinds.
package channelindex
