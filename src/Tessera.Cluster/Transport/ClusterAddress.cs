using System.Globalization;
using System.Net;

namespace Tessera.Cluster.Transport;

/// <summary>HOST:PORT (or [IPv6]:PORT) of a worker or coordinator.</summary>
public static class ClusterAddress
{
    public static bool TryParse(string text, out string host, out int port)
    {
        host = string.Empty;
        port = 0;
        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535)
        {
            return false;
        }

        host = text[..colon];
        if (host.StartsWith('[') && host.EndsWith(']'))
        {
            host = host[1..^1];
        }

        return host.Length > 0;
    }

    public static EndPoint Parse(string text)
    {
        if (!TryParse(text, out string host, out int port))
        {
            throw new ClusterException(ClusterErrorCode.BadRequest, $"'{text}' is not HOST:PORT");
        }

        return IPAddress.TryParse(host, out var ip) ? new IPEndPoint(ip, port) : new DnsEndPoint(host, port);
    }

    public static string Format(EndPoint endPoint) => endPoint switch
    {
        IPEndPoint ip when ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 => $"[{ip.Address}]:{ip.Port}",
        IPEndPoint ip => $"{ip.Address}:{ip.Port}",
        DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        _ => endPoint.ToString() ?? "?",
    };
}
