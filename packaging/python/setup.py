"""Makes the shmshim wheel, offline, from the stage that make wheel
prepares (packaging/python and the built programs; see the Makefile):

    SHMSHIM_WHEEL_PLAT=manylinux2014_x86_64 python3 setup.py bdist_wheel

The wheel holds programs (the library, shmclean, the launcher) and pure
Python to find and start them: no extension module, so it fits any
Python 3 (py3-none), and its platform is the programs' (manylinux2014:
glibc 2.17 and newer, which is what the library asks for)."""
import os

from setuptools import setup
from wheel.bdist_wheel import bdist_wheel

HERE = os.path.dirname(os.path.abspath(__file__))
with open(os.path.join(HERE, "VERSION")) as f:
    VERSION = f.read().strip()


class ProgramsWheel(bdist_wheel):
    """A wheel tagged py3-none-<platform of the programs>."""

    def finalize_options(self):
        super().finalize_options()
        self.root_is_pure = False

    def get_tag(self):
        return "py3", "none", os.environ["SHMSHIM_WHEEL_PLAT"]


setup(
    name="shmshim",
    version=VERSION,
    description="POSIX shared memory and named semaphores as files, "
                "where /dev/shm is missing or too small",
    license="BSD-2-Clause",
    packages=["shmshim"],
    package_data={"shmshim": ["lib/libshmshim.so", "bin/shmshim", "bin/shmclean"]},
    entry_points={"console_scripts": ["shmshim = shmshim.__main__:launcher",
                                      "shmclean = shmshim.__main__:shmclean"]},
    python_requires=">=3.6",
    cmdclass={"bdist_wheel": ProgramsWheel},
)
