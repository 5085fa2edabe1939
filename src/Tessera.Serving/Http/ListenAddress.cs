using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Tessera.Serving.Http;

/// <summary>Binds a URL such as http://127.0.0.1:8000 on Kestrel: an IP address, localhost, or * for every interface.</summary>
internal static class ListenAddress
{
    /// <summary>Adds the endpoint; the returned options carry the bound port once the server started.</summary>
    public static ListenOptions Bind(KestrelServerOptions kestrel, string url, Action<ListenOptions> configure)
    {
        ListenOptions? bound = null;
        kestrel.Listen(Parse(url), o =>
        {
            bound = o;
            configure(o);
        });
        return bound!;
    }

    /// <summary>The endpoint a URL (or HOST:PORT) names; <see cref="ArgumentException"/> with a one-line reason otherwise.</summary>
    public static IPEndPoint Parse(string url)
    {
        int scheme = url.IndexOf("://", StringComparison.Ordinal);
        string hostPort = scheme < 0 ? url : url[(scheme + 3)..].TrimEnd('/');
        int colon = hostPort.LastIndexOf(':');
        if (colon <= 0 || !ushort.TryParse(hostPort.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out ushort port))
        {
            throw new ArgumentException($"'{url}' must be HOST:PORT, e.g. 127.0.0.1:8000");
        }

        string host = hostPort[..colon].Trim('[', ']');
        IPAddress address = host switch
        {
            "localhost" => IPAddress.Loopback,
            "*" or "+" => IPAddress.Any,
            _ when IPAddress.TryParse(host, out var ip) => ip,
            _ => throw new ArgumentException($"'{url}': '{host}' is not an IP address (or localhost, or *) to listen on"),
        };

        return new IPEndPoint(address, port);
    }
}
