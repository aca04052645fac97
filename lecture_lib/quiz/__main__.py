"""`python -m lecture_lib.quiz`: the instructor's command line (see `lecture_lib.quiz.instructor`)."""

import sys

from lecture_lib.quiz.instructor import main

sys.exit(main())
