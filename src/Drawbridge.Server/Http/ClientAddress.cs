using System.Net;
using Drawbridge.Net;

namespace Drawbridge.Server.Http;

internal static class ClientAddress
{
    /// <summary>
    /// The caller's address as this server sees it. X-Forwarded-For is already applied by the forwarded-headers
    /// middleware, and only for the configured trusted proxies, so this is never a value the caller chose.
    /// </summary>
    public static IpPrefix Observed(HttpContext context)
    {
        var address = context.Connection.RemoteIpAddress ?? IPAddress.Loopback;
        return IpPrefix.FromAddress(address);
    }
}
