using System.Net;
using System.Net.Sockets;

namespace Tessera.Cli.LoadGen;

/// <summary>Names for request failures, used as the keys of "errors by status".</summary>
internal static class RequestOutcome
{
    public static string Status(HttpStatusCode code) => ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture);

    public static string Failure(Exception e) => e switch
    {
        TaskCanceledException or TimeoutException => "timeout",
        HttpRequestException { InnerException: SocketException s } => $"connection {Describe(s.SocketErrorCode)}",
        SocketException s => $"connection {Describe(s.SocketErrorCode)}",
        HttpRequestException h when h.HttpRequestError != HttpRequestError.Unknown => $"http {h.HttpRequestError}",
        HttpRequestException or IOException => "connection error",
        _ => e.GetType().Name,
    };

    private static string Describe(SocketError code) => code switch
    {
        SocketError.ConnectionRefused => "refused",
        SocketError.ConnectionReset => "reset",
        SocketError.TimedOut => "timed out",
        _ => code.ToString(),
    };
}
