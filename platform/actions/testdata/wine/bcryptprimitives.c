/*
 * A stand-in bcryptprimitives.dll for running Go 1.26 Windows test binaries
 * under Wine 8, which lacks ProcessPrng (Go's runtime needs it). Build and
 * install into the Wine prefix:
 *
 *   x86_64-w64-mingw32-gcc -shared -o bcryptprimitives.dll bcryptprimitives.c -ladvapi32
 *   cp bcryptprimitives.dll "$WINEPREFIX/drive_c/windows/system32/"
 *
 * Then: GOOS=windows go test -exec wine ./platform/actions/
 */
#include <windows.h>

#define RtlGenRandom SystemFunction036
BOOLEAN NTAPI RtlGenRandom(PVOID buf, ULONG len);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len) {
    while (len > 0) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!RtlGenRandom(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}
