"""Training loops: ``fit`` a model, ``evaluate`` it, and the ``History`` of a run.

    from dlcore import nn, optim, train
    from dlcore.data import load_digits
    digits = load_digits()
    train_loader, val_loader, test_loader = digits.loaders(batch_size=64, seed=0)
    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    history = train.fit(model, nn.CrossEntropyLoss(), optim.Adam(model.parameters(), 1e-3),
                        train_loader, epochs=20, val_loader=val_loader)
    history.plot()                                 # learning curves
    train.evaluate(model, test_loader, nn.CrossEntropyLoss())   # {'loss':..., 'accuracy':...}

API::

    fit(model, loss_fn, optimizer, train_loader, epochs=1, val_loader=None,
        scheduler=None, progress=True, metrics=None, early_stopping=None,
        scheduler_interval=None, clip_grad_norm=None, callbacks=None,
        input_grad=True) -> History
        # metrics: dict name -> fn(y_hat, y) -> float; None = accuracy for
        #   CrossEntropyLoss / BCEWithLogitsLoss, nothing for MSELoss ({} for none)
        # early_stopping: EarlyStopping(...) or an int patience on 'val_loss'
        # scheduler stepped once per epoch, or per batch for OneCycleLR
        #   (scheduler_interval='epoch' | 'batch' overrides)
        # clip_grad_norm: rescale all gradients to at most this global L2 norm
        # callbacks: functions f(history) called after every epoch; True stops
        # input_grad=False: model.backward(g, input_grad=False), which skips the
        #   gradient for the data (dlcore's layers and Sequential take it)
    evaluate(model, loader, loss_fn=None, metrics=None) -> dict  # {'loss', 'accuracy', ...}
        # without loss_fn: accuracy alone when y holds integer class labels
    predict(model, X_or_loader, batch_size=256) -> np.ndarray    # outputs, eval mode
    accuracy(y_hat, y) -> float        # argmax for (N, C) scores, z > 0 for one logit
    clip_grad_norm_(parameters, max_norm) -> float   # the norm before clipping
    EarlyStopping(monitor='val_loss', patience=5, mode=None, min_delta=0.0,
                  restore_best_weights=True)
    History: .history (dict of per-epoch lists: 'loss', 'accuracy', 'val_loss',
             'val_accuracy', 'lr' (at the epoch's start), 'time' (s)), h['val_loss'],
             .epochs, len(h), .last(), .best_epoch, .stopped_early,
             .plot(keys=None, axes=None) -> Figure (dlcore.viz.curves.plot_history)
    NonFiniteLossError(FloatingPointError): the NaN guard; .epoch, .step, .loss

The loop is the engine's protocol, written out once::

    model.train()
    for X, y in train_loader:
        y_hat = model(X); loss = loss_fn(y_hat, y)      # forward
        model.backward(loss_fn.backward())               # backward
        optimizer.step(); optimizer.zero_grad()          # update

``fit`` leaves the model in the mode it found it in (``evaluate`` runs it in
``eval()`` mode, then restores it). Epochs and steps count from 1.

Files: ``loop.py`` (fit, evaluate, predict, the NaN guard), ``history.py``
(History, EarlyStopping), ``metrics.py`` (accuracy, gradient clipping).
"""

from .history import EarlyStopping, History
from .loop import NonFiniteLossError, evaluate, fit, predict
from .metrics import accuracy, clip_grad_norm_, default_metrics

__all__ = ["fit", "evaluate", "predict", "accuracy", "clip_grad_norm_", "default_metrics",
           "EarlyStopping", "History", "NonFiniteLossError"]
