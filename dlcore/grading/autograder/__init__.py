"""The class autograder: ``python -m dlcore grade SUBMISSIONS --assignment NN_topic --out OUT``.

One idea per file:

* ``discover``  finds the submissions (nbgrader's layout or plain folders) and names them;
* ``reader``    reads a notebook defensively and takes its answer cells by ``grade_id``
                from the teacher's copy;
* ``sandbox``   starts the worker in a confined process and cleans up after it;
* ``worker``    the code that runs inside that process (learner code, then ``spec.run``);
* ``compare``   judges the worker's plain-data answers against the references, in the
                grader's own process;
* ``journal``   start and end records per submission, so a killed run resumes;
* ``report``    ``gradebook.csv`` and ``feedback/STUDENT.html``, written atomically;
* ``cli``       the command line, a thread pool driving one worker per submission.
"""
