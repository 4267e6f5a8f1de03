using System.Reflection;
using System.Runtime.ExceptionServices;
using Steward.State;

namespace Steward.Server.Events;

/// <summary>
/// Wraps the state store so that every completed write is seen by the <see cref="StateObserver"/>: metrics,
/// events and the dashboard follow what is recorded without each caller remembering to report it, and
/// methods added to <see cref="IStateStore"/> later pass through untouched. A failing observer never fails
/// the write.
/// </summary>
#pragma warning disable CA1852 // DispatchProxy derives from this type at run time.
internal class StateStoreProxy : DispatchProxy
#pragma warning restore CA1852
{
    private IStateStore _inner = null!;
    private StateObserver _observer = null!;

    public static IStateStore Wrap(IStateStore inner, StateObserver observer)
    {
        var proxy = Create<IStateStore, StateStoreProxy>();
        var self = (StateStoreProxy)(object)proxy;
        self._inner = inner;
        self._observer = observer;
        return proxy;
    }

    protected override object? Invoke(MethodInfo? targetMethod, object?[]? args)
    {
        ArgumentNullException.ThrowIfNull(targetMethod);
        object? result;
        try
        {
            result = targetMethod.Invoke(_inner, args);
        }
        catch (TargetInvocationException ex) when (ex.InnerException is { } inner)
        {
            ExceptionDispatchInfo.Capture(inner).Throw();
            throw;
        }

        return targetMethod.ReturnType == typeof(Task) && result is Task write && StateObserver.Observes(targetMethod.Name)
            ? ObserveAsync(write, targetMethod.Name, args ?? [])
            : result;
    }

    private async Task ObserveAsync(Task write, string method, object?[] args)
    {
        await write;
        _observer.Written(method, args);
    }
}
