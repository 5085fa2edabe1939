using System.CommandLine;
using Tessera.Batch;
using Tessera.Cli.Common;
using Tessera.Cluster.Transport;
using Tessera.Engine;
using Tessera.Onnx.Io;

namespace Tessera.Cli.Commands;

/// <summary>Runs the parsed command and turns every expected failure into one line on stderr and an exit code.</summary>
internal static class CommandHost
{
    public static int Invoke(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        try
        {
            // Process-wide settings from the environment are checked before any command starts (local workers
            // inherit them: a bad one would otherwise surface only as each worker's failure to start).
            _ = TransportLimits.Default;
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (Describe(e) is { } message)
        {
            Console.Error.WriteLine($"tessera: {message}");
            return e is CliException cli ? cli.ExitCode : 1;
        }
    }

    /// <summary>The one-line message for a failure users can cause, or null for a bug (which keeps its stack trace).</summary>
    private static string? Describe(Exception e) => e switch
    {
        CliException or InferenceException or OnnxFormatException or BatchException => e.Message,
        ClusterException => e.Message,
        FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException => e.Message,
        InvalidDataException or NotSupportedException => e.Message,
        OperationCanceledException => "cancelled",
        // A static default read from the environment (TESSERA_SHARED_MEMORY's, in TransportLimits.Default) fails in
        // its type's initializer: the user's error is the inner one.
        TypeInitializationException { InnerException: { } inner } => Describe(inner),
        _ => null,
    };
}
