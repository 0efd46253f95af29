package config

import "strings"

// URLs splits remote.url into the central replicas it lists
// (comma-separated); nil when it is empty.
func (r RemoteConfig) URLs() []string {
	var out []string
	for _, u := range strings.Split(r.URL, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// FirstURL is the first replica remote.url lists, for commands that talk
// to one central server (token and plugin admin); "" when none.
func (r RemoteConfig) FirstURL() string {
	if urls := r.URLs(); len(urls) > 0 {
		return urls[0]
	}
	return ""
}
