using System.Runtime.InteropServices;

namespace Drawbridge.Agent.Nftables;

/// <summary>
/// nftables in-process through libnftables (libnftables.so.1, shipped with the nftables package): no fork per
/// apply, so a grant reaches the kernel in about a millisecond instead of the ~10 ms an nft process costs.
/// One context, used by one call at a time.
/// </summary>
internal sealed partial class LibNftables : INftables, IDisposable
{
    private const string Library = "libnftables.so.1";
    private const uint OutputJson = 1 << 4;

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly IntPtr _context;

    private LibNftables(IntPtr context) => _context = context;

    /// <summary>Null when the library is not installed; the caller falls back to the nft binary.</summary>
    public static LibNftables? TryCreate()
    {
        if (!NativeLibrary.TryLoad(Library, out _))
        {
            return null;
        }

        var context = NftCtxNew(0);
        if (context == IntPtr.Zero)
        {
            return null;
        }

        if (NftCtxBufferOutput(context) != 0 || NftCtxBufferError(context) != 0)
        {
            NftCtxFree(context);
            return null;
        }

        return new LibNftables(context);
    }

    public async Task ApplyAsync(string script, CancellationToken ct) => await RunAsync(script, json: false, ct);

    public Task<string> ListTableJsonAsync(string family, string table, CancellationToken ct) => RunAsync($"list table {family} {table}", json: true, ct);

    public Task<string> ListRulesetJsonAsync(CancellationToken ct) => RunAsync("list ruleset", json: true, ct);

    public void Dispose()
    {
        NftCtxFree(_context);
        _gate.Dispose();
    }

    private async Task<string> RunAsync(string command, bool json, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            NftCtxOutputSetFlags(_context, json ? OutputJson : 0);
            var status = NftRunCmdFromBuffer(_context, command);

            // The buffers are reset by each read, so both are read after every command.
            var output = Marshal.PtrToStringUTF8(NftCtxGetOutputBuffer(_context)) ?? "";
            var error = Marshal.PtrToStringUTF8(NftCtxGetErrorBuffer(_context)) ?? "";
            return status == 0 ? output : throw new NftException($"nft '{FirstLine(command)}' failed: {error.Trim()}");
        }
        finally
        {
            _gate.Release();
        }
    }

    private static string FirstLine(string command) => command.Split('\n', 2)[0];

    [LibraryImport(Library, EntryPoint = "nft_ctx_new")]
    private static partial IntPtr NftCtxNew(uint flags);

    [LibraryImport(Library, EntryPoint = "nft_ctx_free")]
    private static partial void NftCtxFree(IntPtr context);

    [LibraryImport(Library, EntryPoint = "nft_ctx_buffer_output")]
    private static partial int NftCtxBufferOutput(IntPtr context);

    [LibraryImport(Library, EntryPoint = "nft_ctx_buffer_error")]
    private static partial int NftCtxBufferError(IntPtr context);

    [LibraryImport(Library, EntryPoint = "nft_ctx_get_output_buffer")]
    private static partial IntPtr NftCtxGetOutputBuffer(IntPtr context);

    [LibraryImport(Library, EntryPoint = "nft_ctx_get_error_buffer")]
    private static partial IntPtr NftCtxGetErrorBuffer(IntPtr context);

    [LibraryImport(Library, EntryPoint = "nft_ctx_output_set_flags")]
    private static partial void NftCtxOutputSetFlags(IntPtr context, uint flags);

    [LibraryImport(Library, EntryPoint = "nft_run_cmd_from_buffer", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int NftRunCmdFromBuffer(IntPtr context, string buffer);
}
