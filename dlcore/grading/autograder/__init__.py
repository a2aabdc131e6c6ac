"""The class autograder: ``python -m dlcore grade SUBMISSIONS --assignment NN_topic --out OUT``.

One idea per file:

* ``discover``   finds the submissions (nbgrader's layout or plain folders) and names them;
* ``reader``     reads a notebook defensively and takes its answer cells by ``grade_id``
                 from the teacher's copy;
* ``grade``      grades one submission: a function of (submission, assignment) that
                 returns plain data;
* ``sandbox``    starts the worker process, watches it, and sweeps up after it;
* ``processes``  the process table from ``/proc``, and the worker uids a run claims;
* ``confine``    the worker confining itself (limits, namespaces, read-only files,
                 unprivileged uid) before any learner code runs;
* ``worker``     the code that runs inside that process (learner code, then ``spec.run``);
* ``compare``    judges the worker's plain-data answers against the references, in the
                 grader's own process;
* ``journal``    start and end records per submission, so a killed run resumes;
* ``report``     ``gradebook.csv`` and ``feedback/STUDENT.html``, written atomically;
* ``cli``        the command line: a thread pool driving one worker per submission.

Why a forged result earns nothing is explained in ``worker.py``.
"""
