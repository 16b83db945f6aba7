#!/usr/bin/env python3
"""scikit-learn reference for trainer/src/classic's classifier (issue 16).

    classic_svm.py IN_DIR

IN_DIR holds (written by trainer/tests/classic.rs):
  features.npy  float32 [n_tracks, 40]  our per-track MFCC mean/std vectors
  cv.json       {"labels": [...], "folds": [...], "paths": [...]}
                folds[i] = the fold in which track i is a test track

For each fold f: fit make_pipeline(StandardScaler(), SVC()) (sklearn defaults:
C=1, kernel='rbf', gamma='scale', tol=1e-3) on the tracks not in fold f and
predict those in it; once on our features, and once on features computed by
librosa itself (librosa.load(sr=22050) -> librosa.feature.mfcc(n_mfcc=20) ->
mean/std over frames, np.std's ddof=0). Prints one JSON object:
  {"ours": {"acc": [...], "pred": [...]}, "librosa": {...}, "max_feature_abs_err": x,
   "max_feature_rel_err": y}
with pred[i] the prediction for track i (made in its test fold).
"""

import json
import os
import sys

import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC


def cross_validate(x, labels, folds):
    pred = np.full(len(labels), -1)
    accs = []
    for f in sorted(set(folds)):
        test = folds == f
        model = make_pipeline(StandardScaler(), SVC())
        model.fit(x[~test], labels[~test])
        pred[test] = model.predict(x[test])
        accs.append(float(np.mean(pred[test] == labels[test])))
    return {"acc": accs, "pred": [int(p) for p in pred]}


def librosa_features(paths):
    import librosa

    rows = []
    for p in paths:
        y, _ = librosa.load(p, sr=22050, mono=True)
        m = librosa.feature.mfcc(y=y, sr=22050, n_mfcc=20)
        rows.append(np.concatenate([m.mean(axis=1), m.std(axis=1)]))
    return np.array(rows)


def main():
    d = sys.argv[1]
    x = np.load(os.path.join(d, "features.npy")).astype(np.float64)
    with open(os.path.join(d, "cv.json")) as f:
        cv = json.load(f)
    labels = np.array(cv["labels"])
    folds = np.array(cv["folds"])
    out = {"ours": cross_validate(x, labels, folds)}
    ref = librosa_features(cv["paths"])
    out["librosa"] = cross_validate(ref, labels, folds)
    err = np.abs(ref - x)
    out["max_feature_abs_err"] = float(err.max())
    out["max_feature_rel_err"] = float((err / np.maximum(np.abs(ref), 1e-3)).max())
    print(json.dumps(out))


if __name__ == "__main__":
    main()
