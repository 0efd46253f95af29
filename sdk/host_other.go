//go:build !wasip1

package sdk

// Outside wasip1 there is no host: the primitives fail with ErrNoHost.

func callLog(uint32, string) {}

func callCompile(uint32, uint32, []byte) int32 { return -1 }

func callFind(int32, uint32, []byte, []byte) int32 { return -1 }

func callFindTexts(int32, uint32, []byte) int32 { return -1 }

func callLastError() string { return ErrNoHost.Error() }
