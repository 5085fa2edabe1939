using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Tessera.Cluster.Transport;

namespace Tessera.Cluster.Membership;

/// <summary>
/// Turns member entries into worker addresses. An entry is HOST:PORT, or <c>dns:NAME:PORT</c>, which stands for every
/// address NAME resolves to (a Kubernetes headless service resolves to one address per ready pod).
/// </summary>
public static class MemberResolver
{
    public const string DnsPrefix = "dns:";

    public static async Task<IReadOnlyList<string>> ResolveAsync(IEnumerable<string> entries, CancellationToken cancellation = default)
    {
        var addresses = new List<string>();
        foreach (string entry in entries)
        {
            if (!entry.StartsWith(DnsPrefix, StringComparison.Ordinal))
            {
                ClusterAddress.Parse(entry);
                addresses.Add(entry);
                continue;
            }

            if (!ClusterAddress.TryParse(entry[DnsPrefix.Length..], out string host, out int port))
            {
                throw new ClusterException(ClusterErrorCode.BadRequest, $"'{entry}' is not dns:NAME:PORT");
            }

            IPAddress[] found;
            try
            {
                found = await Dns.GetHostAddressesAsync(host, cancellation).ConfigureAwait(false);
            }
            catch (SocketException e)
            {
                throw new ClusterException(ClusterErrorCode.BadRequest, $"cannot resolve {host}: {e.SocketErrorCode}");
            }

            // Sorted so that the same DNS answer always gives the same member order (plans stay deterministic).
            addresses.AddRange(found.Select(ip => ClusterAddress.Format(new IPEndPoint(ip, port))).Order(StringComparer.Ordinal));
        }

        return addresses.Distinct(StringComparer.Ordinal).ToArray();
    }

    /// <summary>The addresses of a cluster description file's <c>nodes[].address</c> entries, each resolved as above.</summary>
    public static Task<IReadOnlyList<string>> FromClusterFileAsync(string path, CancellationToken cancellation = default)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(path));
        if (!document.RootElement.TryGetProperty("nodes", out var nodes) || nodes.ValueKind != JsonValueKind.Array)
        {
            throw new ClusterException(ClusterErrorCode.BadRequest, $"{path} has no \"nodes\" array");
        }

        var entries = nodes.EnumerateArray()
            .Select((n, i) => n.TryGetProperty("address", out var a) && a.ValueKind == JsonValueKind.String
                ? a.GetString()!
                : throw new ClusterException(ClusterErrorCode.BadRequest, $"{path}: node {i} has no \"address\""))
            .ToArray();
        return ResolveAsync(entries, cancellation);
    }
}
