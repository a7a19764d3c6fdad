using System.Buffers.Text;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Drawbridge.Bench;

/// <summary>
/// One HTTP/1.1 keep-alive connection that sends a request and reads its response, one at a time: status and body
/// (Content-Length or chunked), nothing more. The fan-out's 10,000 simulated agents share the server's two cores, and
/// with an <see cref="HttpClient"/> each they took 0.6-0.8 s of CPU in a change reaching all of them, half of it their
/// own runtime (mostly the garbage collector marking 10,000 clients); with this, about 0.35 s, so the cores measure the
/// server (bench/README.md, "Fan-out").
/// </summary>
internal sealed class LeanHttpConnection(IPEndPoint server) : IDisposable
{
    private static readonly byte[] HeaderEnd = "\r\n\r\n"u8.ToArray();
    private static readonly byte[] LastChunk = "0\r\n\r\n"u8.ToArray();
    private readonly string host = server.ToString();
    private Socket? socket;
    private byte[] buffer = new byte[4096];

    /// <summary>Sends <paramref name="method"/> <paramref name="target"/> (with an optional JSON body) and returns the status and the body, valid until the next call.</summary>
    public async Task<(int Status, ReadOnlyMemory<byte> Body)> SendAsync(string method, string target, string authorization, string? json, CancellationToken ct)
    {
        if (socket is null)
        {
            socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            await socket.ConnectAsync(server, ct);
        }

        var request = json is null
            ? $"{method} {target} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {authorization}\r\n\r\n"
            : $"{method} {target} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {authorization}\r\nContent-Type: application/json\r\nContent-Length: {Encoding.UTF8.GetByteCount(json)}\r\n\r\n{json}";
        var length = Encoding.UTF8.GetBytes(request, 0, request.Length, Grow(Encoding.UTF8.GetMaxByteCount(request.Length)), 0);
        await socket.SendAsync(buffer.AsMemory(0, length), ct);
        return await ReadResponseAsync(socket, ct);
    }

    /// <summary>Closes the connection; the next request opens a new one.</summary>
    public void Dispose()
    {
        socket?.Dispose();
        socket = null;
    }

    private async Task<(int Status, ReadOnlyMemory<byte> Body)> ReadResponseAsync(Socket connection, CancellationToken ct)
    {
        var filled = 0;
        int headEnd;
        while ((headEnd = buffer.AsSpan(0, filled).IndexOf(HeaderEnd)) < 0)
        {
            filled += await ReceiveAsync(connection, filled, ct);
        }

        var head = Encoding.ASCII.GetString(buffer, 0, headEnd);
        if (!head.StartsWith("HTTP/1.1 ", StringComparison.Ordinal) || head.Length < 12
            || !int.TryParse(head.AsSpan(9, 3), NumberStyles.None, CultureInfo.InvariantCulture, out var status))
        {
            throw new InvalidDataException("not an HTTP/1.1 status line");
        }

        var bodyStart = headEnd + HeaderEnd.Length;
        if (Header(head, "Content-Length") is { } declared)
        {
            if (!int.TryParse(declared, NumberStyles.None, CultureInfo.InvariantCulture, out var length))
            {
                throw new InvalidDataException("malformed Content-Length");
            }

            var bodyEnd = bodyStart + length;
            while (filled < bodyEnd)
            {
                filled += await ReceiveAsync(connection, filled, ct);
            }

            return (status, buffer.AsMemory(bodyStart, bodyEnd - bodyStart));
        }

        if (Header(head, "Transfer-Encoding") is not { } encoding || !encoding.Equals("chunked", StringComparison.OrdinalIgnoreCase))
        {
            return (status, ReadOnlyMemory<byte>.Empty); // 204 and 304 have no body
        }

        // One response is in flight at a time, so the last chunk (no trailers) ends what was received; a JSON body has
        // no raw line breaks that could look like it.
        while (!buffer.AsSpan(bodyStart, filled - bodyStart).EndsWith(LastChunk))
        {
            filled += await ReceiveAsync(connection, filled, ct);
        }

        return (status, buffer.AsMemory(bodyStart, Dechunk(bodyStart, filled)));
    }

    /// <summary>Joins the chunks in place (each moves left over its own size line) and returns the body's length.</summary>
    private int Dechunk(int start, int end)
    {
        var read = start;
        var written = start;
        while (read < end)
        {
            var line = buffer.AsSpan(read, end - read).IndexOf("\r\n"u8);
            if (line < 0)
            {
                throw new InvalidDataException("malformed chunk");
            }

            var sizeText = buffer.AsSpan(read, line);
            if (sizeText.IndexOf((byte)';') is >= 0 and var extension)
            {
                sizeText = sizeText[..extension];
            }

            if (!Utf8Parser.TryParse(sizeText, out int size, out _, 'x') || size < 0 || read + line + 2 + size + 2 > end)
            {
                throw new InvalidDataException("malformed chunk size");
            }

            if (size == 0)
            {
                break;
            }

            Buffer.BlockCopy(buffer, read + line + 2, buffer, written, size);
            written += size;
            read += line + 2 + size + 2;
        }

        return written - start;
    }

    private async Task<int> ReceiveAsync(Socket connection, int filled, CancellationToken ct)
    {
        if (filled == buffer.Length)
        {
            Array.Resize(ref buffer, buffer.Length * 2);
        }

        var received = await connection.ReceiveAsync(buffer.AsMemory(filled), ct);
        return received > 0 ? received : throw new IOException("the server closed the connection");
    }

    private byte[] Grow(int size)
    {
        if (buffer.Length < size)
        {
            buffer = new byte[size];
        }

        return buffer;
    }

    private static string? Header(string head, string name)
    {
        foreach (var line in head.Split("\r\n").AsSpan(1))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0 && line.AsSpan(0, colon).Equals(name, StringComparison.OrdinalIgnoreCase))
            {
                return line[(colon + 1)..].Trim();
            }
        }

        return null;
    }
}
