using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Tessera.Tests.Support;

/// <summary>An <see cref="ILoggerFactory"/> that keeps every message logged through it, and when, for tests that count log lines.</summary>
internal sealed class CountingLoggers : ILoggerFactory
{
    private readonly ConcurrentQueue<(LogLevel Level, string Message, long Timestamp)> _messages = new();

    public IReadOnlyList<(LogLevel Level, string Message)> Messages => [.. _messages.Select(m => (m.Level, m.Message))];

    public int Count(string fragment) => _messages.Count(m => m.Message.Contains(fragment, StringComparison.Ordinal));

    /// <summary>The <see cref="Stopwatch"/> timestamps at which the messages containing <paramref name="fragment"/> were logged, in order.</summary>
    public IReadOnlyList<long> Timestamps(string fragment) => [.. _messages.Where(m => m.Message.Contains(fragment, StringComparison.Ordinal)).Select(m => m.Timestamp)];

    public ILogger CreateLogger(string categoryName) => new Logger(_messages);

    public void AddProvider(ILoggerProvider provider) => throw new NotSupportedException();

    public void Dispose()
    {
    }

    private sealed class Logger(ConcurrentQueue<(LogLevel, string, long)> messages) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            messages.Enqueue((logLevel, formatter(state, exception), Stopwatch.GetTimestamp()));
    }
}
