using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using Steward.Backup.Logging;

namespace Steward.Backup.Pipeline;

/// <summary>
/// Runs the stages of one pipeline run and keeps the first failure. Every stage gets a token that is cancelled as
/// soon as any stage fails, so one failure stops the whole stream.
/// </summary>
internal sealed class StageGroup : IDisposable
{
    private readonly CancellationToken _callerToken;
    private readonly CancellationTokenSource _cts;
    private readonly ILogger _logger;
    private readonly List<Task> _stages = [];
    private PipelineFailure? _failure;

    public StageGroup(ILogger logger, CancellationToken callerToken)
    {
        _logger = logger;
        _callerToken = callerToken;
        _cts = CancellationTokenSource.CreateLinkedTokenSource(callerToken);
    }

    public CancellationToken Token => _cts.Token;

    public PipelineFailure? Failure => Volatile.Read(ref _failure);

    /// <summary>Starts a stage on the thread pool. The runner, not the stage, completes the pipe ends.</summary>
    public void Start(string stage, StageKind kind, PipeReader? input, PipeWriter? output, Func<CancellationToken, ValueTask> body)
    {
        _stages.Add(Task.Run(async () =>
        {
            try
            {
                await body(Token).ConfigureAwait(false);
                if (output is not null)
                {
                    await output.CompleteAsync().ConfigureAwait(false);
                }

                if (input is not null)
                {
                    await input.CompleteAsync().ConfigureAwait(false);
                }
            }
            catch (Exception ex)
            {
                Fail(stage, kind, ex);
                if (output is not null)
                {
                    await output.CompleteAsync(ex).ConfigureAwait(false);
                }

                if (input is not null)
                {
                    await input.CompleteAsync(ex).ConfigureAwait(false);
                }
            }
        }, CancellationToken.None));
    }

    public Task WhenAllAsync() => Task.WhenAll(_stages);

    /// <summary>Records <paramref name="exception"/> as the failure if it is the first one, then stops all stages.</summary>
    public void Fail(string stage, StageKind kind, Exception exception)
    {
        var failure = Classify(stage, kind, exception);
        if (Interlocked.CompareExchange(ref _failure, failure, null) is null)
        {
            LogMessages.StageFailed(_logger, failure.Stage, failure.Kind, failure.Code, failure.Message);
        }

        try
        {
            _cts.Cancel();
        }
        catch (AggregateException ex)
        {
            LogMessages.CancellationCallbackFailed(_logger, ex);
        }
    }

    private PipelineFailure Classify(string stage, StageKind kind, Exception exception)
    {
        // Once the caller cancelled, whatever breaks next (a killed process, a reset connection) is a consequence.
        if (_callerToken.IsCancellationRequested)
        {
            return new PipelineFailure(stage, StageKind.Cancelled, "The operation was cancelled by the caller.", "cancelled");
        }

        return exception switch
        {
            BackupIntegrityException e => new PipelineFailure(stage, StageKind.Integrity, e.Message, e.Code),
            BackupException e => new PipelineFailure(stage, kind, e.Message, e.Code),
            OperationCanceledException => new PipelineFailure(stage, kind, "The stage was cancelled.", "cancelled"),
            _ => new PipelineFailure(stage, kind, $"{exception.GetType().Name}: {exception.Message}", StageCode(kind)),
        };
    }

    private static string StageCode(StageKind kind) => kind switch
    {
        StageKind.Source => "source_failed",
        StageKind.Filter => "filter_failed",
        StageKind.Storage => "storage_failed",
        StageKind.Sink => "sink_failed",
        _ => "failed",
    };

    public void Dispose() => _cts.Dispose();
}
