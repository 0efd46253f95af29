//go:build !linux

package main

import "errors"

// pinSupported: -pin needs Linux's sched_setaffinity.
const pinSupported = false

var errNoPin = errors.New("loadgen: -pin needs Linux")

func pinSelf(int) error               { return errNoPin }
func startOn(int, func() error) error { return errNoPin }
func cpusAllowed(int) (string, error) { return "", errNoPin }
